"""A host watches a meeting in Chromium until it ends, and the page ends with it, unreloaded."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from asgiref.sync import sync_to_async
from playwright.async_api import expect

from rtms_ingest.simulator import RtmsSimulator
from rtms_ingest.simulator.fixture import sample_meeting
from tests.integration.browser_support import (
    create_host,
    signed_in_page,
)
from tests.integration.stack import Stack
from tests.integration.test_end_to_end import meeting_for_stream, simulator_config

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.timeout(180),
]


async def test_live_page_ends_cleanly_when_the_meeting_ends(
    stack: Stack, transactional_db: None, tmp_path: Path
) -> None:
    await sync_to_async(create_host)()
    recording = sample_meeting()
    async with signed_in_page(stack, width=1280, height=800) as page:
        async with RtmsSimulator(recording, simulator_config(stack)) as simulator:
            stream = simulator.new_stream()
            playing = asyncio.create_task(simulator.play(stream))
            meeting = await meeting_for_stream(stream.rtms_stream_id)
            await page.goto(f"{stack.base_url}/meetings/{meeting.pk}/")
            people = page.locator("[data-role=people]")
            controls = page.locator("[data-role=transcription-choice]")
            await expect(people.get_by_text("Speaking")).to_have_count(1, timeout=30_000)
            await expect(controls).to_be_visible()
            # The stream's stop: the ingest ends the meeting through the meetings service, whose
            # `state` event reaches this page over its socket.
            report = await playing
        # The ingest ends the meeting once it sees the stop: the badge says so when the event lands.
        await expect(page.locator("[data-role=state-badge]")).to_have_text("Ended", timeout=30_000)
        # Zoom's stop reason (6, MEETING_ENDED) in words, not as a number.
        await expect(page.locator("[data-role=stream-state]")).to_have_text(
            "Stream: meeting ended: The meeting ended."
        )
        await expect(people.locator(".person.is-stayed").first).to_be_visible()
        await expect(people.get_by_text("Speaking")).to_have_count(0)
        await expect(people.get_by_text("Present", exact=True)).to_have_count(0)
        await expect(people.locator(".is-speaking, .is-present")).to_have_count(0)
        await expect(controls).to_be_hidden()
        link = page.locator("[data-role=finished-link]").get_by_role("link")
        await expect(link).to_be_visible()
        await page.screenshot(path=str(tmp_path / "live-meeting-ended.png"), full_page=True)
        await link.click()
        await expect(page).to_have_url(f"{stack.base_url}/meetings/{meeting.pk}/")
        await expect(page.locator("#meeting")).to_have_attribute("data-live", "false")
        await expect(page.get_by_role("link", name="Markdown")).to_be_visible()
    assert report.stop_reason == 6
