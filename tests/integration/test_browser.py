"""A host signs in with Debian's Chromium and watches captions arrive while the meeting plays."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from playwright.async_api import Page, expect

from rtms_ingest.simulator import RtmsSimulator
from rtms_ingest.simulator.fixture import sample_meeting
from tests.integration.browser_support import create_host, signed_in_page
from tests.integration.stack import Stack
from tests.integration.test_end_to_end import meeting_for_stream, simulator_config

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.timeout(180),
]


async def _asks_if_she_was_mentioned_and_catches_up(page: Page, captions: Any) -> None:
    """A viewer whose name the page does not know asks for it once, then gets cited answers."""
    mention = captions.filter(has_text="Zoë, accessibility fixes by Tuesday?")
    await expect(mention).to_have_count(1, timeout=60_000)
    await page.get_by_role("button", name="Was I mentioned?").click()
    await page.get_by_label("Your name in the meeting").fill("Zoë Müller")
    await page.get_by_role("button", name="Look").click()
    answer = page.locator("[data-role=ask-answer]")
    await expect(answer).to_contain_text("Zoë was mentioned", timeout=15_000)
    await expect(answer.locator(".citations li").first).to_contain_text("Zoë")
    await page.get_by_label("Catch up on").select_option("5")
    await page.get_by_role("button", name="Catch me up").click()
    await expect(answer).to_contain_text("What was said in the last 5 minutes", timeout=15_000)
    await expect(answer).to_contain_text("Decided:")


async def test_host_sees_live_captions_with_speaker_names(
    stack: Stack, transactional_db: None, tmp_path: Path
) -> None:
    await sync_to_async(create_host)()
    recording = sample_meeting()
    first, second = recording.utterances[0], recording.utterances[1]
    async with signed_in_page(stack, width=1280, height=800) as page:
        async with RtmsSimulator(recording, simulator_config(stack)) as simulator:
            stream = simulator.new_stream()
            playing = asyncio.create_task(simulator.play(stream))
            meeting = await meeting_for_stream(stream.rtms_stream_id)
            await page.reload()
            await page.locator(f'a[href="/meetings/{meeting.pk}/"]').first.click()
            captions = page.locator("[data-role=captions] .caption")
            await expect(captions.first).to_be_visible(timeout=30_000)
            for utterance in (first, second):
                caption = captions.filter(has_text=utterance.text)
                await expect(caption).to_have_count(1, timeout=30_000)
                name = recording.user_name(utterance.user_id)
                await expect(page.locator("[data-role=captions]")).to_contain_text(name)
            await expect(page.locator("[data-role=connection]")).to_have_attribute(
                "data-status", "live"
            )
            await page.screenshot(path=str(tmp_path / "live-meeting.png"), full_page=True)
            await _asks_if_she_was_mentioned_and_catches_up(page, captions)
            report = await playing
        await expect(captions).to_have_count(len(recording.utterances), timeout=30_000)
    assert report.stop_reason == 6
