"""A finished meeting in Chromium: the outcome first, and the host corrects it for good.

The notes come before the transcript, which comes before the charts; the host adds a missing
action item, deletes a wrong one and rewords a decision, and after a reload all three stand.
On a phone nothing overflows, and an empty action item list says so inside its pane.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from asgiref.sync import sync_to_async
from playwright.async_api import Page, expect

from assistant.models import ActionItem, Decision, Meeting, MeetingNotes
from tests.integration.browser_support import (
    create_host,
    ended_meeting_of_host,
    say,
    signed_in_page,
)
from tests.integration.stack import Stack

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.timeout(180),
]
LINES = [
    ("Priya Raman", "Let's decide: we ship the release on Thursday."),
    ("Tom Okafor", "I'll write the release notes by Wednesday."),
    ("Ana Lima", "And I'll order the kangaroos, apparently."),
]


def _finished_meeting(topic: str, *, items: bool) -> Meeting:
    """An ended meeting of the browser host with its final notes (and action items or none)."""
    meeting = ended_meeting_of_host(f"outcome-{topic}", topic)
    segments = say(meeting, LINES * 8, every_ms=20_000, lasting_ms=15_000)
    MeetingNotes.objects.create(
        meeting=meeting, summary="Ship on Thursday.", version=2, is_final=True
    )
    Decision.objects.create(
        meeting=meeting, key="d1", text="Ship on Thursday", segment_ids=[segments[0].pk]
    )
    if items:
        ActionItem.objects.create(
            meeting=meeting, key="a1", text="Write the release notes", owner="Tom Okafor"
        )
        ActionItem.objects.create(meeting=meeting, key="a2", text="Order the kangaroos")
    return meeting


async def _top(page: Page, selector: str) -> float:
    box = await page.locator(selector).first.bounding_box()
    assert box is not None, selector
    return float(box["y"])


async def test_the_host_reads_the_outcome_first_and_corrects_it_for_good(
    stack: Stack, transactional_db: None, tmp_path: Path
) -> None:
    await sync_to_async(create_host)()
    meeting = await sync_to_async(_finished_meeting)("Release go/no-go", items=True)
    async with signed_in_page(stack, width=1366, height=768) as page:
        await page.goto(f"{stack.base_url}/meetings/{meeting.pk}/")
        notes = page.locator("[data-role=ai-notes]")
        await expect(notes.locator("[data-role=notes-summary]")).to_have_text("Ship on Thursday.")
        tops = [
            await _top(page, sel)
            for sel in ("[data-role=ai-notes]", ".pane-captions", ".pane-charts")
        ]
        assert tops == sorted(tops), f"notes, transcript, charts should come in order: {tops}"
        captions = await page.locator(".pane-captions").bounding_box()
        assert captions is not None and captions["height"] >= 480  # readable, not a small box
        exports = page.locator(".meeting-actions")
        await expect(exports.get_by_role("link", name="JSON")).to_be_visible()
        await expect(exports.get_by_text("Delete")).to_have_count(0)
        await expect(page.locator(".danger-zone summary")).to_have_text("Delete this meeting…")

        actions = notes.locator("[data-role=notes-actions]")
        await notes.get_by_role("button", name="Add an action item").click()
        form = notes.locator("form.action-add")
        await form.get_by_label("Task").fill("Book the demo room")
        await form.get_by_label("Owner").fill("Ana Lima")
        await form.get_by_label("Due").fill("2030-05-17")
        await form.get_by_role("button", name="Save").click()
        added = actions.locator("li", has_text="Book the demo room")
        await expect(added).to_contain_text("Ana Lima")
        await expect(form).to_have_count(0)

        wrong = actions.locator("li", has_text="Order the kangaroos")
        await wrong.get_by_role("button", name="Delete “Order the kangaroos”").click()
        await wrong.get_by_role("button", name="Delete", exact=True).click()
        await expect(actions.locator("li", has_text="Order the kangaroos")).to_have_count(0)

        decisions = notes.locator("[data-role=notes-decisions]")
        await decisions.get_by_role("button", name="Edit the decision “Ship on Thursday”").click()
        await notes.get_by_label("Decision", exact=True).fill(
            "Ship on Thursday, offline mode in 2.5"
        )
        await notes.get_by_role("button", name="Save").click()
        await expect(decisions).to_contain_text("Ship on Thursday, offline mode in 2.5")
        await page.screenshot(path=str(tmp_path / "outcome-1366.png"), full_page=True)

        await page.reload()
        await expect(actions.locator("li", has_text="Book the demo room")).to_contain_text(
            "Ana Lima"
        )
        await expect(actions.locator("li", has_text="Order the kangaroos")).to_have_count(0)
        await expect(actions.locator("li", has_text="Write the release notes")).to_have_count(1)
        await expect(decisions.locator("li")).to_have_count(1)
        await expect(decisions).to_contain_text("Ship on Thursday, offline mode in 2.5")


async def test_on_a_phone_the_page_fits_and_an_empty_list_stays_in_its_pane(
    stack: Stack, transactional_db: None, tmp_path: Path
) -> None:
    await sync_to_async(create_host)()
    meeting = await sync_to_async(_finished_meeting)("Nothing to do", items=False)
    async with signed_in_page(stack, width=390, height=844) as page:
        await page.goto(f"{stack.base_url}/meetings/{meeting.pk}/")
        empty = page.locator("[data-role=notes-actions] li.muted")
        await expect(empty).to_have_text("No action items yet.")
        line, pane = await empty.bounding_box(), await page.locator(".notes-pane").bounding_box()
        assert line is not None and pane is not None
        assert pane["x"] + 8 <= line["x"] and line["x"] + line["width"] <= pane["x"] + pane["width"]
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"the page is {width} px wide on a 390 px phone"
        await page.screenshot(path=str(tmp_path / "outcome-390.png"), full_page=True)
