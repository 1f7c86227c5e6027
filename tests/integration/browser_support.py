"""What the browser tests share: Debian's Chromium, the signed-in host's page, a finished meeting.

`signed_in_page` opens Chromium, signs the browser host in and, when the test's block ends
without an error of its own, fails the test on any JavaScript error the page raised.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.utils import timezone
from playwright.async_api import Page, async_playwright, expect

from assistant.models import Meeting, TranscriptSegment, ZoomUserLink
from tests.integration.conftest import OPERATOR_ID
from tests.integration.stack import Stack

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
HOST = "browser-host"
PASSWORD = "a browser pass 42"


def create_host() -> None:
    """The browser host: a site user linked to the simulator's operator (Zoom user)."""
    # Hashed as production does: the web process runs the production settings' hashers.
    user = get_user_model().objects.create(
        username=HOST, password=make_password(PASSWORD, hasher="pbkdf2_sha256")
    )
    ZoomUserLink.objects.create(user=user, zoom_user_id=OPERATOR_ID)


async def sign_in(page: Page, stack: Stack) -> None:
    await page.goto(f"{stack.base_url}/login/")
    await page.get_by_label("Username").fill(HOST)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page).to_have_url(f"{stack.base_url}/")


@asynccontextmanager
async def signed_in_page(stack: Stack, *, width: int, height: int) -> AsyncIterator[Page]:
    """A Chromium page of the given size with the browser host signed in; no JS errors allowed."""
    async with async_playwright() as playwright:
        # Debian's Chromium; `make test` installs it (Playwright cannot download a browser here).
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = await browser.new_page(viewport={"width": width, "height": height})
        errors: list[Any] = []
        page.on("pageerror", lambda error: errors.append(error))
        await sign_in(page, stack)
        yield page
    assert errors == [], f"JavaScript errors: {errors}"


def ended_meeting_of_host(
    slug: str, topic: str, *, started: dt.datetime | None = None, minutes: int = 20
) -> Meeting:
    """An ended meeting of the browser host, `minutes` long (started three hours ago by default)."""
    started = started or timezone.now() - dt.timedelta(hours=3)
    return Meeting.objects.create(
        zoom_id=f"{slug}==",
        rtms_stream_id=slug,
        topic=topic,
        owner=get_user_model().objects.get(username=HOST),
        state=Meeting.State.ENDED,
        started_at=started,
        ended_at=started + dt.timedelta(minutes=minutes),
    )


def say(
    meeting: Meeting, lines: Sequence[tuple[str, str]], *, every_ms: int, lasting_ms: int
) -> list[TranscriptSegment]:
    """Zoom's transcript of `lines` (speaker, text), one every `every_ms` from 0."""
    return TranscriptSegment.objects.bulk_create(
        TranscriptSegment(
            meeting=meeting,
            seq=n + 1,
            source=TranscriptSegment.Source.NATIVE,
            speaker_name=name,
            start_ms=n * every_ms,
            end_ms=n * every_ms + lasting_ms,
            text=text,
            dedupe_key=f"{meeting.rtms_stream_id}-{n}",
        )
        for n, (name, text) in enumerate(lines)
    )
