"""Screen share becomes slides: kept only when the picture changed, read, searchable, deleted.

Real parts throughout: the simulator plays the sample meeting (three generated slides) to the
ingest's supervisor, PostgreSQL stores the slides, RapidOCR reads them (the in-process job
pool), the search API finds their text, and a deletion takes the files with the meeting.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth.models import User
from django.db import connections
from django.test import Client, override_settings

from assistant import jobs, pictures
from assistant.models import Meeting, ParticipantPicture, Slide
from assistant.services import meeting_deletion
from rtms_ingest.protocol import BinaryContent, MediaType
from rtms_ingest.simulator.fixture import sample_meeting
from rtms_ingest.simulator.visual import encode_picture
from rtms_ingest.storage.slides import PicturesSink, pictures_sink
from tests.rtms_ingest.cluster.supervisor_support import simulator, start_command, supervisor, until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(180)]

SHARER, CAMERA = 16778240, 16779264
SLIDES = sample_meeting().shares[0].slides


@pytest.fixture(autouse=True)
async def _db_closed() -> AsyncIterator[None]:
    yield
    await sync_to_async(connections.close_all)()


def jpg(slide_index: int) -> bytes:
    return encode_picture(SLIDES[slide_index].image, 5)


async def test_identical_frames_make_one_slide_and_a_new_picture_another(tmp_path: Path) -> None:
    meeting = await Meeting.objects.acreate(zoom_id="s==", rtms_stream_id="slides-dedupe")
    with override_settings(PICTURES_DIR=tmp_path, SLIDES_MIN_INTERVAL_S=3.0, JOBS_IN_PROCESS=True):
        sink = PicturesSink(meeting.pk, share=True, video=False)
        await sink.sharing(SHARER, "Priya Raman", True, 0)
        same = jpg(0)
        for second in range(20):  # the same slide, two frames a second, for ten seconds
            await sink.share(BinaryContent(same, 1_000 + second * 500, user_id=SHARER))
            await asyncio.sleep(0.02)
            await sink.close()  # let the frame looked at finish before the next arrives
        assert await Slide.objects.filter(meeting=meeting).acount() == 1
        await sink.share(BinaryContent(jpg(1), 12_000, user_id=SHARER))
        await sink.close()
        rows = [row async for row in Slide.objects.filter(meeting=meeting).order_by("shown_at_ms")]
        await asyncio.to_thread(jobs.shutdown)
    assert [(row.shown_at_ms, row.sharer_name) for row in rows] == [
        (1_000, "Priya Raman"),
        (12_000, "Priya Raman"),
    ]
    assert sink.frames_looked_at == 11  # one a second, and the new one
    assert (tmp_path / str(meeting.pk) / rows[0].image_name).read_bytes() == same


async def test_a_new_picture_within_the_minimum_interval_waits(tmp_path: Path) -> None:
    meeting = await Meeting.objects.acreate(zoom_id="w==", rtms_stream_id="slides-interval")
    with override_settings(PICTURES_DIR=tmp_path, SLIDES_MIN_INTERVAL_S=3.0, JOBS_IN_PROCESS=True):
        sink = PicturesSink(meeting.pk, share=True, video=False)
        for at_ms, index in ((0, 0), (1_000, 1), (2_000, 1), (3_000, 1)):
            await sink.share(BinaryContent(jpg(index), at_ms, user_id=SHARER))
            await sink.close()
        shown = [s async for s in Slide.objects.filter(meeting=meeting).values_list("shown_at_ms")]
        await asyncio.to_thread(jobs.shutdown)
    assert shown == [(0,), (3_000,)]


async def test_share_is_wanted_only_when_the_meeting_keeps_slides() -> None:
    meeting = await Meeting.objects.acreate(zoom_id="c==", rtms_stream_id="slides-choice")
    with override_settings(SLIDES=True, VIDEO_THUMBNAILS=False):
        sink = pictures_sink(meeting)
        assert sink is not None and sink.wants == MediaType.DESKSHARE
        meeting.capture_slides = False
        assert pictures_sink(meeting) is None


@override_settings(JOBS_IN_PROCESS=True, SLIDES=True, VIDEO_THUMBNAILS=True)
async def test_the_sample_meetings_slides_are_kept_read_found_and_deleted_with_it(
    clean_redis: None, tmp_path: Path, host: User
) -> None:
    ingest = supervisor(
        media=MediaType.TRANSCRIPT | MediaType.CHAT | MediaType.DESKSHARE | MediaType.VIDEO
    )
    with override_settings(PICTURES_DIR=tmp_path):
        async with simulator(sample_meeting(), speed=8.0) as sim:
            stream = sim.new_stream()
            playing = asyncio.create_task(sim.play(stream))
            await ingest.handle(start_command(stream))
            report = await asyncio.wait_for(playing, 60)
            await until(lambda: _no_streams(ingest), 30)
        await asyncio.to_thread(jobs.shutdown)  # the OCR jobs
        assert {"deskshare", "video"} <= set(report.media_params)
        meeting = await Meeting.objects.aget(rtms_stream_id=stream.rtms_stream_id)
        origin = report.clock_origin_ms or 0
        rows = [row async for row in Slide.objects.filter(meeting=meeting)]
        assert [row.title for row in rows] == [
            "Release 2.4 decision",
            "Action items",
            "Release 2.5 plan",
        ]
        for row, shown in zip(rows, SLIDES, strict=True):
            assert 0 <= row.shown_at_ms - origin - shown.at_s * 1000 < 1_500
            assert (row.sharer_user_id, row.sharer_name) == (SHARER, "Priya Raman")
        camera = await ParticipantPicture.objects.aget(meeting=meeting)
        assert camera.zoom_user_id == CAMERA

        await Meeting.objects.filter(pk=meeting.pk).aupdate(owner=host)
        client = Client()
        await sync_to_async(client.force_login)(host)
        body = (await sync_to_async(client.get)("/api/search/", {"q": "Heron"})).json()
        assert [(r["source"], r["slide_id"]) for r in body["results"]] == [("slide", rows[2].pk)]

        folder = pictures.meeting_dir(meeting.pk)
        assert len(list(folder.iterdir())) == 2 * len(rows) + 1
        await sync_to_async(meeting_deletion.delete_meeting)(meeting.pk, "host")
        assert not folder.exists(), "a deleted meeting leaves no picture behind"


async def _no_streams(ingest: object) -> bool:
    return not getattr(ingest, "streams", None)


async def test_an_ingest_that_lost_the_stream_keeps_no_slide(tmp_path: Path) -> None:
    meeting = await Meeting.objects.acreate(
        zoom_id="f==", rtms_stream_id="slides-fenced", writer_generation=5
    )
    with override_settings(PICTURES_DIR=tmp_path, JOBS_IN_PROCESS=True):
        sink = PicturesSink(meeting.pk, share=True, video=False)
        sink.fence.generation = 3  # another ingest wrote under generation 5
        await sink.share(BinaryContent(jpg(0), 1_000, user_id=SHARER))
        await sink.close()
    assert sink.fence.stale.is_set()
    assert not await Slide.objects.filter(meeting=meeting).aexists()
    assert not (tmp_path / str(meeting.pk)).exists()
