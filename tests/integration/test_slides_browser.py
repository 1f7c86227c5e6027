"""Slides in Chromium: the live page's current slide follows `slide` events; the finished page
pins thumbnails at their moments, and a click opens the picture full size."""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Iterator

import pytest
from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import override_settings
from django.utils import timezone
from playwright.async_api import expect

from assistant import pictures
from assistant.models import Meeting, Slide, TranscriptSegment
from assistant.services import live, slides
from rtms_ingest.simulator.fixture import sample_meeting
from rtms_ingest.storage import frames
from tests.integration.browser_support import create_host, signed_in_page
from tests.integration.conftest import STACK_REDIS_URL
from tests.integration.stack import Stack

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.timeout(180),
]
ZOOM_START = 1_767_225_600_000
SAMPLE = [s.image for s in sample_meeting().shares[0].slides]


@pytest.fixture
def cleaned_pictures() -> Iterator[list[int]]:
    """Meeting ids whose picture folders (the stack's PICTURES_DIR, shared) go afterwards."""
    ids: list[int] = []
    yield ids
    for meeting_id in ids:
        pictures.delete_pictures(meeting_id)


def _meeting(state: str, name: str) -> Meeting:
    started = timezone.now() - dt.timedelta(hours=1)
    return Meeting.objects.create(
        zoom_id=f"{name}==",
        rtms_stream_id=name,
        topic="Slides check",
        owner=get_user_model().objects.get(username="browser-host"),
        state=state,
        started_at=started,
        ended_at=started + dt.timedelta(minutes=1) if state == Meeting.State.ENDED else None,
    )


def _slide(meeting: Meeting, index: int, at_ms: int, title: str) -> Slide:
    slide = Slide.objects.create(
        meeting=meeting,
        seq=0,
        shown_at_ms=at_ms,
        sharer_name="Priya Raman",
        image_name="pending",
        thumbnail_name="pending",
        content_type="image/png",
        width=1280,
        height=720,
        picture_hash="0" * 64,
        title=title,
    )
    slide.image_name = f"slide-{slide.pk}.png"
    slide.thumbnail_name = f"slide-{slide.pk}-thumb.jpg"
    slide.save()
    data = SAMPLE[index].read_bytes()
    pictures.write(meeting.pk, slide.image_name, data)
    pictures.write(meeting.pk, slide.thumbnail_name, _thumbnail(data))
    return slide


def _thumbnail(png: bytes) -> bytes:
    image = frames.decode(png)
    assert image is not None
    return frames.jpeg(image, frames.THUMBNAIL_SIDE)


def _finished(ids: list[int]) -> Meeting:
    meeting = _meeting(Meeting.State.ENDED, "slides-browser-finished")
    ids.append(meeting.pk)
    TranscriptSegment.objects.bulk_create(
        TranscriptSegment(
            meeting=meeting,
            seq=n + 1,
            source=TranscriptSegment.Source.NATIVE,
            speaker_name="Priya Raman",
            start_ms=ZOOM_START + start * 1000,
            end_ms=ZOOM_START + (start + 4) * 1000,
            text=f"Line {n} about the plan.",
            dedupe_key=f"s{n}",
        )
        for n, start in enumerate((0, 10, 20, 30, 36))
    )
    _slide(meeting, 0, ZOOM_START + 10_000, "Release 2.4 decision")
    _slide(meeting, 1, ZOOM_START + 30_000, "Action items")
    return meeting


def _publish(slide: Slide) -> None:
    """The slide's live event, as the ingest publishes it, on the stack's channel layer."""
    layers = copy.deepcopy(settings.CHANNEL_LAYERS)
    layers["default"]["CONFIG"]["hosts"][0]["address"] = STACK_REDIS_URL
    with override_settings(CHANNEL_LAYERS=layers):
        live.append(slide.meeting_id, lambda seq: slides.slide_payload(slide, seq))


async def test_finished_page_pins_slides_at_their_moments_and_opens_them_full_size(
    stack: Stack, transactional_db: None, cleaned_pictures: list[int]
) -> None:
    await sync_to_async(create_host)()
    meeting = await sync_to_async(_finished)(cleaned_pictures)
    async with signed_in_page(stack, width=1366, height=900) as page:
        await page.goto(f"{stack.base_url}/meetings/{meeting.pk}/")
        pins = page.locator("[data-role=timeline-slides] .slide-pin")
        await expect(pins).to_have_count(2)
        lane = await page.locator("[data-role=timeline-slides] .slide-pins").bounding_box()
        first, second = [await pin.bounding_box() for pin in await pins.all()]
        assert lane and first and second
        # Shown at 10 s and 30 s of a 40 s meeting: a quarter and three quarters along.
        centre = [
            (box["x"] + box["width"] / 2 - lane["x"]) / lane["width"] for box in (first, second)
        ]
        assert abs(centre[0] - 0.25) < 0.03 and abs(centre[1] - 0.75) < 0.03, centre
        loaded = await pins.first.locator("img").evaluate("img => img.naturalWidth")
        assert loaded == 320
        captions = page.locator("[data-role=captions] .caption-slide")
        await expect(captions).to_have_count(2)
        async with page.expect_popup() as opened:
            await pins.first.locator("a").click()
        full = await opened.value
        await full.wait_for_load_state()
        width = await full.locator("img").evaluate("img => img.naturalWidth")
        assert width == 1280


async def test_live_page_shows_the_current_slide_as_it_comes(
    stack: Stack, transactional_db: None, cleaned_pictures: list[int]
) -> None:
    await sync_to_async(create_host)()
    meeting = await sync_to_async(_meeting)(Meeting.State.LIVE, "slides-browser-live")
    cleaned_pictures.append(meeting.pk)
    async with signed_in_page(stack, width=1366, height=900) as page:
        await page.goto(f"{stack.base_url}/meetings/{meeting.pk}/")
        current = page.locator("[data-role=current-slide]")
        await expect(current).to_be_hidden()
        await expect(page.locator("[data-role=connection-text]")).to_have_text("Connected")
        for index, title in enumerate(("Release 2.4 decision", "Action items")):
            slide = await sync_to_async(_slide)(meeting, index, ZOOM_START + index * 5000, title)
            await sync_to_async(_publish)(slide)
            await expect(current.locator("figcaption")).to_contain_text(title, timeout=15_000)
        image = current.locator("img")
        await expect(image).to_have_attribute(
            "src", f"/meetings/{meeting.pk}/pictures/{slide.image_name}"
        )
        assert await image.evaluate("img => img.complete && img.naturalWidth") == 1280
