"""A host shares a finished meeting in Chromium; someone with no account reads it; it is revoked.

The host makes a link from the meeting page's Share control and copies it; a fresh browser
context with no session opens it and reads the notes and the transcript, on a page with no
script; the host sees the opening beside the link and revokes it; the reader's next load is the
"revoked" page (410).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from playwright.async_api import async_playwright, expect

from assistant.models import ActionItem, Decision, Meeting, MeetingNotes
from tests.integration.browser_support import (
    CHROMIUM,
    CHROMIUM_ARGS,
    create_host,
    ended_meeting_of_host,
    say,
    sign_in,
)
from tests.integration.stack import Stack

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.timeout(180),
]
LINES = [
    ("Priya Raman", "Decision: we ship the release on Thursday."),
    ("Tom Okafor", "I'll write the release notes by Wednesday."),
    ("Ana Lima", "Then I'll tell support on Friday."),
]


def _finished_meeting() -> Meeting:
    """An ended meeting of the browser host, with its transcript and final notes."""
    meeting = ended_meeting_of_host("share-browser", "Release go/no-go", minutes=25)
    segments = say(meeting, LINES, every_ms=20_000, lasting_ms=15_000)
    MeetingNotes.objects.create(
        meeting=meeting, summary="Ship on Thursday; notes by Wednesday.", version=3, is_final=True
    )
    Decision.objects.create(
        meeting=meeting, key="d1", text="Ship on Thursday", segment_ids=[segments[0].pk]
    )
    ActionItem.objects.create(
        meeting=meeting, key="a1", text="Write the release notes", owner="Tom Okafor"
    )
    return meeting


async def test_a_host_shares_a_meeting_and_revokes_the_link(
    stack: Stack, transactional_db: None, tmp_path: Path
) -> None:
    await sync_to_async(create_host)()
    meeting = await sync_to_async(_finished_meeting)()
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        host_context = await browser.new_context(viewport={"width": 1280, "height": 800})
        await host_context.grant_permissions(
            ["clipboard-read", "clipboard-write"], origin=stack.base_url
        )
        host = await host_context.new_page()
        errors: list[Any] = []
        host.on("pageerror", lambda error: errors.append(error))
        await sign_in(host, stack)
        await host.goto(f"{stack.base_url}/meetings/{meeting.pk}/")

        share = host.locator("[data-role=share-control]")
        await share.locator(":scope > summary").click()
        await expect(share.get_by_label("Expires after")).to_have_value("7")
        await share.get_by_label("Expires after").select_option("1")
        await share.get_by_role("button", name="Create link").click()
        new_url = share.locator("[data-role=share-new-url]")
        shared = re.compile(rf"^{re.escape(stack.base_url)}/shared/[A-Za-z0-9_-]{{43}}/$")
        await expect(new_url).to_have_value(shared, timeout=10_000)
        url = await new_url.input_value()
        await share.get_by_role("button", name="Copy").click()
        await expect(share.locator("[data-role=share-status]")).to_have_text("Copied.")
        assert await host.evaluate("navigator.clipboard.readText()") == url
        links = share.locator("[data-role=share-list] li.share-link")
        await expect(links).to_have_count(1)
        await expect(links.first).to_contain_text("not opened yet")
        await host.screenshot(path=str(tmp_path / "share-control.png"))

        # Someone with no account: a fresh context, no cookies.
        reader_context = await browser.new_context(viewport={"width": 390, "height": 844})
        reader = await reader_context.new_page()
        reader.on("pageerror", lambda error: errors.append(error))
        opened = await reader.goto(url)
        assert opened is not None and opened.status == 200
        assert opened.headers["referrer-policy"] == "no-referrer"
        notes = reader.locator("[data-role=shared-notes]")
        await expect(notes).to_contain_text("Ship on Thursday; notes by Wednesday.")
        await expect(notes.locator("[data-role=shared-decisions]")).to_contain_text(
            "Ship on Thursday"
        )
        await expect(notes.locator("[data-role=shared-actions]")).to_contain_text("Tom Okafor")
        captions = reader.locator("[data-role=captions] .caption")
        await expect(captions).to_have_count(3)
        await expect(captions.first).to_contain_text("Decision: we ship the release on Thursday.")
        await expect(reader.get_by_role("heading", name="Release go/no-go")).to_be_visible()
        assert await reader.locator("script").count() == 0  # no socket, no editor, no ask
        await expect(reader.locator("form, button, input")).to_have_count(0)
        width = await reader.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"the shared page is {width} px wide on a 390 px phone"
        await reader.screenshot(path=str(tmp_path / "shared-page.png"), full_page=True)

        # The host sees the opening beside the link, and revokes it.
        await host.reload()
        await share.locator(":scope > summary").click()
        await expect(links.first).to_contain_text("opened once")
        await links.first.locator("summary", has_text="Openings").click()
        await expect(links.first.locator(".share-openings li")).to_contain_text("127.0.0.1")
        await links.first.get_by_role("button", name="Revoke").click()
        await expect(share.locator("[data-role=share-status]")).to_have_text(
            "Revoked: the link no longer opens."
        )
        await expect(links).to_have_count(0)
        await host.set_viewport_size({"width": 390, "height": 844})  # the open panel on a phone
        await expect(share.get_by_role("button", name="Create link")).to_be_in_viewport()
        width = await host.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"the meeting page is {width} px wide with the Share panel open"
        await host.screenshot(path=str(tmp_path / "share-control-390.png"), full_page=True)

        gone = await reader.reload()
        assert gone is not None and gone.status == 410
        await expect(reader.get_by_role("heading", name="This link was revoked")).to_be_visible()
        await expect(reader.locator("body")).not_to_contain_text("Ship on Thursday")
        await browser.close()
    assert errors == [], f"JavaScript errors: {errors}"
