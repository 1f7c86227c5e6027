"""Zoom's transcript drives what a host keeps, in Chromium (issue 20 item 1).

A finished meeting with both tracks, as TRANSCRIPTION=both stores it: Zoom's says "Tomás",
ours (a small recogniser) "to Mars". The page shows Zoom's first and counts what it shows, the
notes use Zoom's words, search finds words of either track and of the chat, each marked, and
the Markdown export carries the chat. A live page counts the track it shows too.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import redis
from asgiref.sync import sync_to_async
from django.contrib.auth import get_user_model
from playwright.async_api import Page, expect
from pytest_django.fixtures import Settings

from assistant import jobs
from assistant.models import ChatMessage, Meeting, MeetingNotes, Participant, TranscriptSegment
from assistant.services.notes import updates
from assistant.services.transcript import SegmentInput, record_segment
from tests.integration.browser_support import (
    create_host,
    signed_in_page,
)
from tests.integration.conftest import STACK_REDIS_URL
from tests.integration.stack import Stack

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.timeout(180),
]
STARTED = dt.datetime(2026, 12, 6, 9, 30, tzinfo=dt.UTC)
# (speaker, start_ms, end_ms, Zoom's words); ours: the same with a small recogniser's mistakes.
LINES = [
    ("Priya Raman", 1_000, 6_000, "Decided then. We ship 2.4 on Thursday."),
    ("Priya Raman", 7_000, 11_000, "Zoë, accessibility fixes by Tuesday?"),
    ("Zoë Müller", 11_500, 14_000, "Yes, merged by Tuesday afternoon."),
    ("Priya Raman", 15_000, 19_000, "Tomás, please write the release notes by Wednesday."),
    ("Tomás Ortega", 19_500, 23_000, "Will do. I'll tell the three customers."),
]
MISHEARD = {"Tomás": "to Mars", "Zoë,": "Moly,", "by Tuesday": "my Tuesday", "three": "tree"}


def ours(zoom: str) -> str:
    """What our recogniser made of Zoom's words."""
    for right, wrong in MISHEARD.items():
        zoom = zoom.replace(right, wrong)
    return zoom


CHAT = "Staging dashboard: https://grafana.example.com/d/payments-retry"


def _finished_meeting() -> Meeting:
    """The meeting, its two tracks and chat; its final notes written as the llm worker would."""
    host = get_user_model().objects.get(username="browser-host")
    meeting = Meeting.objects.create(
        zoom_id="primary-browser==",
        rtms_stream_id="primary-browser",
        topic="Release sync",
        owner=host,
        state=Meeting.State.ENDED,
        transcription="both",
        started_at=STARTED,
        ended_at=STARTED + dt.timedelta(minutes=30),
    )
    rows = [
        TranscriptSegment(
            meeting=meeting,
            seq=2 * n + k + 1,
            source=source,
            speaker_name=speaker,
            start_ms=start + 40 * k,  # ours is a little off Zoom's times
            end_ms=end,
            text=text,
            dedupe_key=f"{source}-{n}",
        )
        for n, (speaker, start, end, zoom) in enumerate(LINES)
        for k, (source, text) in enumerate((("asr", ours(zoom)), ("native", zoom)))
    ]
    TranscriptSegment.objects.bulk_create(rows)
    for name in dict.fromkeys(speaker for speaker, *_ in LINES):
        Participant.objects.create(meeting=meeting, zoom_user_id=len(name), name=name)
    ChatMessage.objects.create(
        meeting=meeting, seq=100, sender_name="Björn Åkesson", sent_at_ms=12_000, text=CHAT,
        dedupe_key="c1",
    )  # fmt: skip
    updates.meeting_ended(meeting.pk)
    jobs.shutdown()
    return meeting


async def _search(page: Page, stack: Stack, query: str) -> Any:
    await page.goto(f"{stack.base_url}/search/")
    await page.get_by_label("Search transcripts").fill(query)
    await page.get_by_role("button", name="Search").click()
    group = page.locator(".search-group")
    await expect(group).to_have_count(1)
    await expect(group.locator(".search-group-title")).to_have_text("Release sync")
    await expect(group.locator(".search-group-when")).to_have_text("Sun 6 Dec 2026, 09:30")
    return group.locator(".search-hit-link")


async def test_zoom_s_track_leads_the_page_notes_search_and_export(
    stack: Stack, transactional_db: None, tmp_path: Path, settings: Settings
) -> None:
    settings.JOBS_IN_PROCESS = True  # the final notes' job runs here, as a worker would
    settings.NOTES_ENGINE = "extractive"
    await sync_to_async(create_host)()
    meeting = await sync_to_async(_finished_meeting)()
    url = f"{stack.base_url}/meetings/{meeting.pk}/"
    async with signed_in_page(stack, width=1366, height=900) as page:
        await page.goto(url)

        # Zoom's track first, counted as shown; ours a click away.
        captions = page.locator("[data-role=captions] .caption:visible")
        count = page.locator("[data-role=caption-count]")
        await expect(captions).to_have_count(len(LINES))
        await expect(captions.nth(3)).to_contain_text("Tomás, please write the release notes")
        await expect(count).to_have_text(str(len(LINES)))
        await expect(page.locator("[data-role=track-switch] [aria-pressed=true]")).to_have_text(
            "Zoom's"
        )
        # The notes read Zoom's words.
        pane = page.locator("[data-role=ai-notes]")
        await expect(pane.locator("[data-role=notes-actions]")).to_contain_text("Tomás")
        await expect(pane).not_to_contain_text("to Mars")
        await expect(pane).not_to_contain_text("Moly")
        await page.screenshot(path=str(tmp_path / "primary-first.png"), full_page=True)
        await page.get_by_role("button", name="Ours").click()
        await expect(captions.nth(3)).to_contain_text("to Mars, please write")
        await expect(count).to_have_text(str(len(LINES)))
        await page.get_by_role("button", name="Zoom's").click()

        # Search: a word only Zoom's track says, one only ours says, one only typed in chat.
        hits = await _search(page, stack, "Tomás")
        await expect(hits).to_have_count(1)
        await expect(hits.locator(".search-hit-source")).to_have_text("Zoom captions")
        hits = await _search(page, stack, "tree")
        await expect(hits.locator(".search-hit-source")).to_have_text("Our captions")
        await page.screenshot(path=str(tmp_path / "search-other-track.png"), full_page=True)
        await hits.click()
        line = page.locator(".caption:target")
        await expect(line).to_contain_text("I'll tell the tree customers")
        await expect(line).to_be_in_viewport()
        await expect(page.locator("[data-role=captions]")).to_have_attribute("data-track", "asr")
        hits = await _search(page, stack, "grafana")
        await expect(hits.locator(".search-hit-source")).to_have_text("Chat")
        await expect(hits).to_contain_text("Björn Åkesson · 00:12")
        await hits.click()
        message = page.locator(".chat-line:target")
        await expect(message).to_contain_text("grafana.example.com")
        await expect(message).to_be_in_viewport()

        # The Markdown export: named by topic and day, Zoom's words, the chat.
        await page.goto(url)
        async with page.expect_download() as download_info:
            await page.get_by_role("link", name="Markdown").click()
        download = await download_info.value
        assert download.suggested_filename == "release-sync-2026-12-06.md"
        markdown = await asyncio.to_thread(Path(await download.path()).read_text)
        transcript, _, chat = markdown.partition("## Chat")
        assert "Tomás, please write the release notes" in transcript
        assert "to Mars" not in transcript
        assert f"- 00:12 **Björn Åkesson:** {CHAT}" in chat

        # The host makes ours the notes' track: the page says what happens.
        await page.get_by_label("Notes from").select_option("asr")
        await expect(page.locator("[data-role=transcription-status]")).to_have_text(
            "Rebuilding the notes from our captions: reload in a minute to see them."
        )
        # On a phone: nothing wider than the screen.
        await page.set_viewport_size({"width": 390, "height": 844})
        for shown in (url, f"{stack.base_url}/search/?q=release"):
            await page.goto(shown)
            width = await page.evaluate("document.documentElement.scrollWidth")
            assert width <= 390, (shown, width)
        await _search(page, stack, "release")
        await page.screenshot(path=str(tmp_path / "search-phone.png"), full_page=True)
    # The job went to the stack's broker, where no worker listens: run it here, then drop it.
    await sync_to_async(updates.finish)(meeting.pk)
    redis.Redis.from_url(STACK_REDIS_URL).delete("llm")
    notes = await MeetingNotes.objects.aget(meeting=meeting)
    assert (notes.track, notes.is_final) == ("asr", True)


def _live_meeting() -> Meeting:
    """A live meeting with both tracks: three of Zoom's captions and two of ours so far."""
    host = get_user_model().objects.get(username="browser-host")
    meeting = Meeting.objects.create(
        zoom_id="primary-live==",
        rtms_stream_id="primary-live",
        topic="Live sync",
        owner=host,
        state=Meeting.State.LIVE,
        transcription="both",
        started_at=STARTED,
    )
    for n, (speaker, start, end, zoom) in enumerate(LINES[:3]):
        for source, text in (("native", zoom), ("asr", ours(zoom))):
            if source == "asr" and n == 2:
                continue  # ours has not caught up yet
            record_segment(meeting.pk, SegmentInput(source, None, speaker, start, end, text))
    jobs.shutdown()
    return meeting


async def test_a_live_page_counts_the_captions_of_the_track_it_shows(
    stack: Stack, transactional_db: None, tmp_path: Path, settings: Settings
) -> None:
    settings.JOBS_IN_PROCESS = True
    await sync_to_async(create_host)()
    meeting = await sync_to_async(_live_meeting)()
    async with signed_in_page(stack, width=390, height=844) as page:  # a phone
        await page.goto(f"{stack.base_url}/meetings/{meeting.pk}/")
        captions = page.locator("[data-role=captions] .caption:visible")
        count = page.locator("[data-role=caption-count]")
        await expect(captions).to_have_count(3)  # replayed over the socket
        await expect(count).to_have_text("3")
        await page.get_by_role("button", name="Ours").click()
        await expect(captions).to_have_count(2)
        await expect(count).to_have_text("2")
        await page.screenshot(path=str(tmp_path / "live-count.png"), full_page=True)
