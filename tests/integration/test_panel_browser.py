"""A participant's view in Zoom: Chromium opens the Home URL with a generated app context,
sees the simulated meeting's live captions, and a host drives RTMS through a stand-in SDK; the
panel ends with the meeting, and opened after it shows the finished meeting and its moments."""

from __future__ import annotations

import asyncio
import re
import time
from pathlib import Path
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from playwright.async_api import Page, Route, async_playwright, expect

from assistant.zoomapp.context import ISSUER, seal_context
from rtms_ingest.simulator import RtmsSimulator
from rtms_ingest.simulator.fixture import sample_meeting
from tests.assistant.zoomapp.finished_meeting import (
    ACTION,
    CHAT_URL,
    CITED_TEXT,
    DECISION,
    LEFT,
    STAYED,
    SUMMARY,
    finished_meeting,
)
from tests.integration.browser_support import CHROMIUM, CHROMIUM_ARGS
from tests.integration.stack import CLIENT_ID, CLIENT_SECRET, Stack
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
            # Zoom answers 10308 (already running): taken as started, and said so.
            await expect(page.locator("[data-role=rtms-status]")).to_have_text(
                "Live notes are on (they already were)"
            )
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
        # Open when the meeting ends: the panel turns into the finished meeting, unreloaded.
        await expect(page.locator("[data-role=state-badge]")).to_have_text("Ended", timeout=30_000)
        people = page.locator("[data-role=people]")
        await expect(people.locator(".person.is-stayed").first).to_be_visible()
        await expect(people.locator(".is-speaking, .is-present")).to_have_count(0)
        # The socket stays open for what still comes (the final notes); the stream is over.
        # Zoom's stop reason (6) in words.
        await expect(page.locator("[data-role=stream-state]")).to_have_text(
            "Stream: meeting ended: The meeting ended."
        )
        # A chat link opens in the system browser (Zoom's openUrl); the panel stays.
        link = page.locator("[data-role=chat] a.chat-link", has_text="grafana.example.com")
        await link.click()
        await expect(page).to_have_url(f"{stack.base_url}/zoomapp/panel")
        assert await page.evaluate("window.__openedUrls") == [
            "https://grafana.example.com/d/payments-retry"
        ]
        # Reloaded after the end: the stored meeting, no live connection to wait for.
        await page.reload()
        await expect(page.locator("#meeting")).to_have_attribute("data-live", "false")
        await expect(captions.filter(has_text=first.text)).to_have_count(1)
        await expect(page.get_by_text("Connecting…")).to_have_count(0)
        await expect(page.locator("[data-role=chat] a.chat-link")).to_have_count(1)
        await browser.close()
        assert not errors, errors


async def _open_panel(page: Page, stack: Stack, token: str) -> None:
    """The Zoom client's first request: the Home URL with the context in its header."""

    async def with_context(route: Route) -> None:
        await route.continue_(headers={**route.request.headers, "x-zoom-app-context": token})

    await page.route("**/zoomapp/home", with_context)
    await page.goto(f"{stack.base_url}/zoomapp/home")
    await expect(page).to_have_url(f"{stack.base_url}/zoomapp/panel")


async def _shows_the_finished_meeting(page: Page) -> None:
    await expect(page.locator("[data-role=state-badge]")).to_have_text("Ended")
    captions = page.locator("[data-role=captions] .caption")
    await expect(captions).to_have_count(40)
    await expect(page.locator("[data-role=caption-count]")).to_have_text("40")
    people = page.locator("[data-role=people]")
    await expect(people.get_by_text(STAYED)).to_be_visible()
    await expect(people.get_by_text(f"{LEFT}")).to_be_visible()
    await expect(people.get_by_text("Left at 13:00")).to_be_visible()
    chat_link = page.locator("[data-role=chat] a.chat-link")
    await expect(chat_link).to_have_attribute("href", CHAT_URL)
    await expect(page.locator("[data-role=notes-summary]")).to_have_text(SUMMARY)
    for live_only in ("Connecting…", "Captions appear here", "Nobody has joined yet."):
        await expect(page.get_by_text(live_only)).to_have_count(0)


async def test_panel_after_the_meeting_shows_it_and_jumps_to_moments_in_place(
    stack: Stack, transactional_db: None, tmp_path: Path
) -> None:
    found = await sync_to_async(finished_meeting)("ended-meeting-uuid==")
    cited = f"#seg-{found.cited.pk}"
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = await browser.new_page(viewport={"width": 480, "height": 900})
        errors: list[Any] = []
        page.on("pageerror", lambda error: errors.append(error))
        # The real SDK, outside the Zoom client: the host's RTMS buttons say they cannot work.
        await _open_panel(page, stack, _context(found.meeting.zoom_id, "host"))
        await _shows_the_finished_meeting(page)
        controls = page.locator("[data-role=rtms-controls]")
        await expect(controls.locator("[data-role=rtms-status]")).to_have_text(
            "Works in the Zoom client only", timeout=20_000
        )
        await expect(controls.get_by_role("button", name="Start")).to_be_disabled()
        await page.reload()
        await _shows_the_finished_meeting(page)
        await expect(page.locator(cited)).not_to_be_in_viewport()

        item = page.locator("[data-role=notes-actions] li", has_text=ACTION)
        await item.get_by_role("link", name="Jump to moment").click()
        moment = page.locator(cited)
        await expect(moment).to_have_class(re.compile(r"\bis-moment\b"))
        await expect(moment).to_contain_text(CITED_TEXT)
        await expect(moment).to_be_in_viewport()
        await expect(page).to_have_url(f"{stack.base_url}/zoomapp/panel")  # no navigation
        await page.screenshot(path=str(tmp_path / "panel-moment.png"), full_page=True)

        # Another moment moves the mark; the decision cites the same line.
        await page.locator("[data-role=captions-scroll]").evaluate("box => { box.scrollTop = 0; }")
        await expect(moment).not_to_be_in_viewport()
        decision = page.locator("[data-role=notes-decisions] li", has_text=DECISION)
        await decision.get_by_role("link", name="Jump to moment").click()
        await expect(moment).to_be_in_viewport()
        await expect(page.locator(".caption.is-moment")).to_have_count(1)
        await expect(page).to_have_url(f"{stack.base_url}/zoomapp/panel")
        await browser.close()
    assert not errors, errors
