"""A host searches every meeting in Chromium, opens a hit and lands on the moment it was said."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth import get_user_model
from django.utils import timezone
from playwright.async_api import expect

from assistant.models import ActionItem, Meeting, MeetingNotes, TranscriptSegment
from tests.integration.browser_support import (
    create_host,
    signed_in_page,
)
from tests.integration.stack import Stack

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.timeout(180),
]
NEEDLE = "the kangaroo budget is approved"


def _hour_long_meeting() -> TranscriptSegment:
    """An ended hour of one line a minute; the needle is said at 47:00 (the fourth part)."""
    host = get_user_model().objects.get(username="browser-host")
    started = timezone.now() - dt.timedelta(days=1)
    meeting = Meeting.objects.create(
        zoom_id="library-browser==",
        rtms_stream_id="library-browser",
        topic="Budget review",
        owner=host,
        state=Meeting.State.ENDED,
        started_at=started,
        ended_at=started + dt.timedelta(hours=1),
    )
    rows = [
        TranscriptSegment(
            meeting=meeting,
            seq=n + 1,
            source=TranscriptSegment.Source.NATIVE,
            speaker_name="Ana Lima" if n % 2 else "Tom Okafor",
            start_ms=n * 60_000,
            end_ms=n * 60_000 + 20_000,
            text=NEEDLE if n == 47 else f"Line {n} about the quarterly plan.",
            dedupe_key=f"k{n}",
        )
        for n in range(60)
    ]
    TranscriptSegment.objects.bulk_create(rows)
    target = TranscriptSegment.objects.get(meeting=meeting, seq=48)
    MeetingNotes.objects.create(meeting=meeting, summary="The budget is approved.", version=1)
    ActionItem.objects.create(
        meeting=meeting, key="a1", text="Book the kangaroos", segment_ids=[target.pk]
    )
    return target


async def test_a_search_hit_opens_the_meeting_at_the_moment_it_was_said(
    stack: Stack, transactional_db: None, tmp_path: Path
) -> None:
    await sync_to_async(create_host)()
    target = await sync_to_async(_hour_long_meeting)()
    async with signed_in_page(stack, width=390, height=844) as page:  # a phone
        await page.get_by_role("link", name="Search").click()
        await page.get_by_label("Search transcripts").fill('"kangaroo budget"')
        await page.get_by_role("button", name="Search").click()
        group = page.locator("[data-role=search-hits] .search-group").first
        await expect(group.locator(".search-group-title")).to_have_text("Budget review")
        hit = group.locator(".search-hit-link").first
        await expect(hit.locator(".search-hit-source")).to_have_text("Zoom captions")
        await expect(hit.locator("mark").first).to_have_text("kangaroo")
        await hit.click()
        await expect(page).to_have_url(
            f"{stack.base_url}/meetings/{target.meeting_id}/?at={target.pk}#seg-{target.pk}"
        )
        moment = page.locator(f"#seg-{target.pk}")
        await expect(moment).to_contain_text(NEEDLE)
        await expect(moment).to_contain_text("47:00")
        await expect(moment).to_be_in_viewport()
        assert await moment.evaluate("node => node.matches(':target')")
        line, bar = await moment.bounding_box(), await page.locator(".topbar").bounding_box()
        assert line and bar and line["y"] >= bar["y"] + bar["height"] - 1  # not under the bar
        await expect(page.locator("[aria-current=page]")).to_have_text("45:00\u20131:00:00")
        await expect(page.locator("[data-role=talk-time] .talk-bar")).to_have_count(2)
        await page.screenshot(path=str(tmp_path / "search-moment.png"), full_page=True)


async def test_an_action_item_jumps_to_where_it_was_said(
    stack: Stack, transactional_db: None, tmp_path: Path
) -> None:
    await sync_to_async(create_host)()
    target = await sync_to_async(_hour_long_meeting)()
    async with signed_in_page(stack, width=1280, height=800) as page:
        await page.goto(f"{stack.base_url}/meetings/{target.meeting_id}/")
        item = page.locator("[data-role=notes-actions] li", has_text="Book the kangaroos")
        await item.get_by_role("link", name="Jump to moment").click()
        moment = page.locator(f"#seg-{target.pk}")
        await expect(moment).to_contain_text(NEEDLE)
        await expect(moment).to_be_in_viewport()
        await page.screenshot(path=str(tmp_path / "action-moment.png"), full_page=True)
