"""A host chooses the "Stand-up" template on a finished meeting, in Chromium (issue 21 item 4).

The meeting's notes were written with the default template; the host picks "Stand-up" in the
Notes pane, the page says the notes are being rebuilt, and once the final notes' job has run
(here, in the test process: the stack's broker has no worker) the page shows a section per
person, each line with a jump to where it was said; then "One-to-one", whose Feedback section
the extract cannot write and says so. No JavaScript error, nothing too wide.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import redis
from asgiref.sync import sync_to_async
from playwright.async_api import expect
from pytest_django.fixtures import Settings

from assistant.models import Meeting, MeetingNotes
from assistant.services.notes import updates
from tests.integration.browser_support import (
    create_host,
    ended_meeting_of_host,
    say,
    signed_in_page,
)
from tests.integration.conftest import STACK_REDIS_URL
from tests.integration.stack import Stack

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.timeout(180),
]
STARTED = dt.datetime(2026, 12, 8, 9, 0, tzinfo=dt.UTC)
LINES = [
    ("Nadia Petrova", "Good morning. Let's do the round. Ravi, go ahead."),
    ("Ravi Menon", "Yesterday I fixed the crash on the settings screen. Today I'm writing tests."),
    ("Ravi Menon", "No blockers from me."),
    ("Helen Brooks", "Yesterday I paired with design. Today I'll build the first two screens."),
    ("Helen Brooks", "I'm blocked on the new icons, design hasn't exported them yet."),
    ("Nadia Petrova", "Helen, please ask design for the icons by Friday."),
]


def _finished_meeting() -> Meeting:
    """The meeting, its transcript and its final notes (default template), as a worker writes."""
    meeting = ended_meeting_of_host(
        "templates-browser", "Mobile team sync", started=STARTED, minutes=15
    )
    say(meeting, LINES, every_ms=10_000, lasting_ms=8_000)
    updates.finish(meeting.pk)
    return meeting


async def test_choosing_stand_up_shows_a_section_per_person_after_the_rebuild(
    stack: Stack, transactional_db: None, tmp_path: Path, settings: Settings
) -> None:
    settings.NOTES_ENGINE = "extractive"
    await sync_to_async(create_host)()
    meeting = await sync_to_async(_finished_meeting)()
    async with signed_in_page(stack, width=1366, height=900) as page:
        await page.goto(f"{stack.base_url}/meetings/{meeting.pk}/")
        pane = page.locator("[data-role=ai-notes]")
        await expect(pane.locator("[data-role=notes-actions]")).to_contain_text("Helen Brooks")
        await expect(pane.locator(".notes-section")).to_have_count(0)

        await pane.get_by_label("Template").select_option("standup")
        await expect(pane.locator("[data-role=notes-template-status]")).to_have_text(
            "Rebuilding the notes with the “Stand-up” template: they show here when ready."
        )
        # The job went to the stack's broker, where no worker listens: run it here.
        await sync_to_async(updates.finish)(meeting.pk)

        sections = pane.locator(".notes-section")
        await expect(sections).to_have_count(2, timeout=20_000)  # the page reloads itself
        await expect(pane.locator("[data-role=notes-template-name]")).to_have_text("Stand-up")
        await expect(sections.locator(".notes-section-heading")).to_have_text(
            ["Ravi Menon", "Helen Brooks"]
        )
        await expect(sections.nth(0).locator("li")).to_have_text(
            [
                "Yesterday: I fixed the crash on the settings screen.Jump to moment",
                "Today: I'm writing tests.Jump to moment",
                "Blockers: none.Jump to moment",
            ]
        )
        helen = sections.nth(1)
        await expect(helen).to_contain_text("Blockers: I'm blocked on the new icons")
        await expect(pane.get_by_label("Template")).to_have_value("standup")
        await page.screenshot(path=str(tmp_path / "stand-up-sections.png"), full_page=True)

        # A line's jump opens where it was said (the transcript part on this page).
        await (
            helen.locator("li", has_text="Blockers")
            .get_by_role("link", name="Jump to moment")
            .click()
        )
        moment = page.locator(".caption.is-moment")
        await expect(moment).to_contain_text("I'm blocked on the new icons")
        await expect(moment).to_be_in_viewport()

        await page.set_viewport_size({"width": 390, "height": 844})
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"the page is {width} px wide on a 390 px phone"
        await page.screenshot(path=str(tmp_path / "stand-up-phone.png"), full_page=True)

        # A section the automatic extract cannot write says so, clearly labelled.
        await pane.get_by_label("Template").select_option("one_to_one")
        await expect(pane.locator("[data-role=notes-template-status]")).to_contain_text(
            "“One-to-one” template"
        )
        await sync_to_async(updates.finish)(meeting.pk)
        feedback = sections.filter(has_text="Feedback")
        await expect(feedback.locator(".section-note.needs-model")).to_have_text(
            "Needs an AI model: the automatic extract cannot write this section.", timeout=20_000
        )
        await expect(feedback.locator("li")).to_have_count(0)
    redis.Redis.from_url(STACK_REDIS_URL).delete("llm")
    notes = await MeetingNotes.objects.aget(meeting=meeting)
    assert (notes.template, notes.is_final) == ("one_to_one", True)
