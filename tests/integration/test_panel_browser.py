"""A participant's view in Zoom: Chromium opens the Home URL with a generated app context,
sees the simulated meeting's live captions, and a host drives RTMS through a stand-in SDK."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Route, async_playwright, expect

from assistant.zoomapp.context import ISSUER, seal_context
from rtms_ingest.simulator import RtmsSimulator
from rtms_ingest.simulator.fixture import sample_meeting
from tests.integration.stack import CLIENT_ID, CLIENT_SECRET, Stack
from tests.integration.test_browser import CHROMIUM, CHROMIUM_ARGS
from tests.integration.test_end_to_end import meeting_for_stream, simulator_config

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.timeout(180),
]
SDK_STAND_IN = (Path(__file__).parent / "sdk_stand_in.js").read_text()


def _context(meeting_uuid: str, role: str) -> str:
    now_ms = int(time.time() * 1000)
    fields = {
        "typ": "meeting",
        "uid": "zoom-participant-9",
        "mid": meeting_uuid,
        "ts": now_ms,
        "exp": now_ms + 120_000,
        "iss": ISSUER,
        "aud": CLIENT_ID,
        "attendrole": role,
    }
    return seal_context(fields, CLIENT_SECRET)


async def _serve_stand_in(route: Route) -> None:
    await route.fulfill(status=200, content_type="text/javascript", body=SDK_STAND_IN)


async def test_panel_shows_live_captions_and_drives_rtms(
    stack: Stack, transactional_db: None, tmp_path: Path
) -> None:
    recording = sample_meeting()
    first = recording.utterances[0]
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = await browser.new_page(viewport={"width": 480, "height": 900})
        errors: list[Any] = []
        page.on("pageerror", lambda error: errors.append(error))
        await page.route("**/static/vendor/zoom-appssdk/**/sdk.es.js", _serve_stand_in)
        async with RtmsSimulator(recording, simulator_config(stack)) as simulator:
            stream = simulator.new_stream()
            playing = asyncio.create_task(simulator.play(stream))
            meeting = await meeting_for_stream(stream.rtms_stream_id)
            # Only the Home URL request carries the header, as in the Zoom client.
            token = _context(meeting.zoom_id, "host")

            async def with_context(route: Route) -> None:
                headers = {**route.request.headers, "x-zoom-app-context": token}
                await route.continue_(headers=headers)

            await page.route("**/zoomapp/home", with_context)
            response = await page.goto(f"{stack.base_url}/zoomapp/home")
            assert response is not None
            await expect(page).to_have_url(f"{stack.base_url}/zoomapp/panel")
            # HSTS is sent over HTTPS only; tests/assistant/zoomapp covers it behind a proxy.
            for name in ("x-content-type-options", "content-security-policy", "referrer-policy"):
                assert name in response.headers
            captions = page.locator("[data-role=captions] .caption")
            await expect(captions.filter(has_text=first.text)).to_have_count(1, timeout=30_000)
            await expect(page.locator("[data-role=connection]")).to_have_attribute(
                "data-status", "live"
            )
            controls = page.locator("[data-role=rtms-controls]")
            await controls.get_by_role("button", name="Start").click()
            await expect(page.locator("[data-role=rtms-status]")).to_have_text("Live notes are on")
            await controls.get_by_role("button", name="Pause").click()
            await expect(page.locator("[data-role=rtms-status]")).to_have_text("Paused")
            await controls.get_by_role("button", name="Resume").click()
            await expect(page.locator("[data-role=rtms-status]")).to_have_text("Live notes are on")
            calls = await page.evaluate("window.__sdkCalls")
            for call in ("config", "getMeetingUUID", "getUserContext", "startRTMS", "pauseRTMS"):
                assert call in calls
            assert "sendMessageToChat" in calls  # the chat notice once notes start
            await page.screenshot(path=str(tmp_path / "panel.png"), full_page=True)
            await playing
        await browser.close()
        assert not errors, errors
