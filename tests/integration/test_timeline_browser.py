"""A finished meeting in Chromium: turns as wide as they are long, a join at the start at 00:00."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.utils import timezone
from playwright.async_api import expect

from assistant.models import Meeting, Participant, TranscriptSegment
from tests.integration.browser_support import (
    create_host,
    ended_meeting_of_host,
    signed_in_page,
)
from tests.integration.stack import Stack

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.timeout(180),
]
ZOOM_START = 1_767_225_600_000  # Zoom stamps the stream in Unix ms
# (speaker, start s, end s): Priya's second turn lasts ten times her first.
TURNS = [("Priya Raman", 1, 2), ("Tom Okafor", 3, 9), ("Priya Raman", 11, 21)]


def _finished_meeting() -> Meeting:
    """An ended meeting whose participant joined a second before the first word."""
    started = timezone.now() - dt.timedelta(hours=1)
    meeting = ended_meeting_of_host(
        "timeline-browser", "Timeline check", started=started, minutes=1
    )
    TranscriptSegment.objects.bulk_create(
        TranscriptSegment(
            meeting=meeting,
            seq=n + 1,
            source=TranscriptSegment.Source.NATIVE,
            speaker_name=name,
            start_ms=ZOOM_START + start * 1000,
            end_ms=ZOOM_START + end * 1000,
            text=f"Turn {n} of the timeline check.",
            dedupe_key=f"t{n}",
        )
        for n, (name, start, end) in enumerate(TURNS)
    )
    Participant.objects.create(
        meeting=meeting, zoom_user_id=7, name="Zoë Müller", joined_at_ms=ZOOM_START
    )
    return meeting


async def test_turns_are_drawn_over_their_duration_and_a_join_at_the_start_shows_00_00(
    stack: Stack, transactional_db: None, tmp_path: Path
) -> None:
    await sync_to_async(create_host)()
    meeting = await sync_to_async(_finished_meeting)()
    async with signed_in_page(stack, width=1366, height=900) as page:
        await page.goto(f"{stack.base_url}/meetings/{meeting.pk}/")
        lanes = page.locator("[data-role=timeline] .timeline-lane")
        priya = lanes.filter(has_text="Priya Raman").locator("rect.timeline-speech")
        tom = lanes.filter(has_text="Tom Okafor").locator("rect.timeline-speech")
        await expect(priya).to_have_count(2)
        short, long = [box["width"] for box in await _boxes(priya)]
        (middle,) = [box["width"] for box in await _boxes(tom)]
        track = await lanes.first.locator("svg.timeline-track").bounding_box()
        assert track is not None
        assert abs(long / short - 10) < 0.2 and abs(middle / short - 6) < 0.2
        assert abs(long - track["width"] / 2) < 2  # 10 s of a 20 s timeline
        moment = page.locator("[data-role=moments] li", has_text="Zoë Müller joined")
        await expect(moment.locator(".moment-clock")).to_have_text("00:00")
        await page.screenshot(path=str(tmp_path / "timeline.png"), full_page=True)


async def _boxes(rects: Any) -> list[dict[str, float]]:
    boxes = [await rects.nth(n).bounding_box() for n in range(await rects.count())]
    assert all(boxes)
    return [box for box in boxes if box]
