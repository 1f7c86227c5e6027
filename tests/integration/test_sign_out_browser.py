"""Signing out in one tab ends the live page in another at once: Chromium shows "signed out"
and does not reconnect (daphne, Redis channel layer, PostgreSQL; the real live-socket.js)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from playwright.async_api import Page, async_playwright, expect

from assistant.models import Meeting
from tests.integration.browser_support import CHROMIUM, CHROMIUM_ARGS
from tests.integration.stack import Stack

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.timeout(180),
]
USERNAME = "sign-out-host"
PASSWORD = "a sign-out pass 42"


def _live_meeting_of_a_new_host() -> int:
    # Hashed as production does: the web process runs the production settings' hashers.
    user = get_user_model().objects.create(
        username=USERNAME, password=make_password(PASSWORD, hasher="pbkdf2_sha256")
    )
    meeting = Meeting.objects.create(
        owner=user,
        zoom_id="sign-out+uuid==",
        rtms_stream_id="sign-out-stream",
        topic="Sign-out check",
        state=Meeting.State.LIVE,
    )
    return meeting.pk


async def _sign_in(page: Page, stack: Stack) -> None:
    await page.goto(f"{stack.base_url}/login/")
    await page.get_by_label("Username").fill(USERNAME)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page).to_have_url(f"{stack.base_url}/")


async def test_signing_out_elsewhere_ends_the_live_page_without_reconnecting(
    stack: Stack, transactional_db: None
) -> None:
    meeting_id = await sync_to_async(_live_meeting_of_a_new_host)()
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = await browser.new_context()
        live = await context.new_page()
        errors: list[Any] = []
        live.on("pageerror", lambda error: errors.append(error))
        sockets: list[Any] = []
        live.on("websocket", lambda socket: sockets.append(socket))
        await _sign_in(live, stack)
        await live.goto(f"{stack.base_url}/meetings/{meeting_id}/")
        connection = live.locator("[data-role=connection]")
        await expect(connection).to_have_attribute("data-status", "live", timeout=15_000)
        # Another tab of the same browser signs out.
        other = await context.new_page()
        await other.goto(f"{stack.base_url}/")
        await other.locator(".user-menu summary").click()
        await other.get_by_role("button", name="Sign out").click()
        await expect(other).to_have_url(f"{stack.base_url}/login/")
        # The live page learns it within a second or two, not at its next ping (20 s).
        await expect(connection).to_have_attribute("data-status", "signed-out", timeout=5_000)
        await expect(live.locator("[data-role=connection-text]")).to_contain_text("Signed out")
        await asyncio.sleep(3)  # longer than the first reconnect delay would be
        assert len(sockets) == 1, "the page tried to reconnect"
        await browser.close()
    assert errors == [], f"JavaScript errors: {errors}"
