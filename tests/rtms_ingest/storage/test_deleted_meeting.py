"""A meeting deleted while its stream is live: the stream is stopped, its recording stays gone,
and the retention sweep removes recording folders left without a meeting."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import redis.asyncio as aioredis
from asgiref.sync import sync_to_async
from django.db import connections
from django.test import override_settings

from assistant import recordings
from assistant.models import Meeting, MeetingDeletion
from assistant.services.meeting_deletion import delete_meeting
from assistant.tasks import purge_expired_meetings
from rtms_ingest.protocol import BinaryContent, MediaType, StopReason
from rtms_ingest.simulator.fixture import load_meeting
from rtms_ingest.storage.recording import FLUSH_S, RecordingSink
from tests.rtms_ingest.cluster.supervisor_support import (
    simulator,
    start_command,
    supervisor,
    until,
)
from tests.rtms_ingest.simulator.fixtures import write_talking_meeting

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(120)]

RECORDING_SINKS = [
    "rtms_ingest.storage.sink.storage_sink",
    "rtms_ingest.storage.recording.recording_sink",
]
SECOND_SPEAKER_S = 6.0  # speaks first well after the deletion (when the stream goes on)


@pytest.fixture(autouse=True)
async def _db_closed() -> AsyncIterator[None]:
    yield
    await sync_to_async(connections.close_all)()


def wavs(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.glob("*.wav")) if folder.is_dir() else []


async def test_a_live_meeting_deleted_mid_stream_is_stopped_and_its_recording_never_returns(
    clean_redis: aioredis.Redis, tmp_path: Path
) -> None:
    recorded = load_meeting(
        write_talking_meeting(
            tmp_path,
            duration_s=20.0,
            utterances=[
                (101, 0.2, 2.5, "I am recorded, then deleted."),
                (202, SECOND_SPEAKER_S, 15.0, "Nobody may record me."),
            ],
        )
    )
    root = tmp_path / "recordings"
    with override_settings(RECORD_AUDIO=True, RECORDINGS_DIR=root, RTMS_SINKS=RECORDING_SINKS):
        ingest = supervisor(media=MediaType.TRANSCRIPT | MediaType.CHAT | MediaType.AUDIO)
        stopping = asyncio.Event()
        running = asyncio.create_task(ingest.run(stopping))
        try:
            async with simulator(recorded, speed=1.0) as sim:
                stream = sim.new_stream()
                playing = asyncio.create_task(sim.play(stream))
                started = time.monotonic()
                await ingest.queue.put(start_command(stream))
                meeting = await until_meeting(stream.rtms_stream_id)
                folder = recordings.meeting_dir(meeting.pk)

                async def first_speaker_on_disk() -> bool:
                    return wavs(folder) == ["101.wav"]

                await until(first_speaker_on_disk)
                assert time.monotonic() - started < SECOND_SPEAKER_S - 1, "too slow to test"
                await sync_to_async(delete_meeting)(
                    meeting.pk, MeetingDeletion.Reason.DEAUTHORIZED, even_live=True
                )
                report = await asyncio.wait_for(playing, 30)
                # Past the second speaker's start, and a few flushes: nothing comes back.
                await asyncio.sleep(max(0.0, SECOND_SPEAKER_S + 1 - (time.monotonic() - started)))
                await asyncio.sleep(4 * FLUSH_S)
        finally:
            stopping.set()
            await running

    assert not folder.exists(), f"recording came back: {wavs(folder)}"
    assert report.stop_reason == StopReason.RECEIVER_REQUEST_CLOSE  # we closed it, early
    assert time.monotonic() - started < 15.0, "the stream ran on to the meeting's end"
    assert not await Meeting.objects.filter(pk=meeting.pk).aexists()


async def until_meeting(stream_id: str) -> Meeting:
    async def opened() -> bool:
        return await Meeting.objects.filter(rtms_stream_id=stream_id).aexists()

    await until(opened)
    return await Meeting.objects.aget(rtms_stream_id=stream_id)


def voice(ms: int) -> bytes:
    return (1000).to_bytes(2, "little", signed=True) * (ms * 16)


async def test_the_recording_sink_writes_nothing_for_a_deleted_meeting(tmp_path: Path) -> None:
    with override_settings(RECORDINGS_DIR=tmp_path):
        meeting = await Meeting.objects.acreate(zoom_id="gone==", rtms_stream_id="rec-gone")
        folder = recordings.meeting_dir(meeting.pk)
        sink = RecordingSink(meeting.pk, folder)
        await sink.audio(BinaryContent(voice(20), 0, user_id=1))
        await asyncio.sleep(2 * FLUSH_S)
        assert wavs(folder) == ["1.wav"]
        await sync_to_async(delete_meeting)(
            meeting.pk, MeetingDeletion.Reason.DEAUTHORIZED, even_live=True
        )
        assert not folder.exists()
        for n in range(1, 50):  # both the participant already written and a new one
            await sink.audio(BinaryContent(voice(20), n * 20, user_id=1))
            await sink.audio(BinaryContent(voice(20), n * 20, user_id=2))
        await asyncio.sleep(2 * FLUSH_S)
        await sink.close()
    assert not folder.exists()
    assert sink.meeting_gone


def age(folder: Path, seconds: float) -> None:
    """Make a folder and its files look last written `seconds` ago."""
    then = time.time() - seconds
    for path in [*folder.iterdir(), folder]:
        os.utime(path, (then, then))


@override_settings(MEETING_RETENTION_DAYS=None)
async def test_the_retention_task_sweeps_recording_folders_without_a_meeting(
    tmp_path: Path,
) -> None:
    with override_settings(RECORDINGS_DIR=tmp_path):
        meeting = await Meeting.objects.acreate(zoom_id="kept==", rtms_stream_id="rec-kept")
        gone = await Meeting.objects.acreate(zoom_id="gone==", rtms_stream_id="rec-orphan")
        gone_id = gone.pk
        await gone.adelete()
        folders = {}
        for name in ("kept", "orphan", "fresh-orphan", "not-a-meeting"):
            meeting_id = {"kept": meeting.pk, "orphan": gone_id, "fresh-orphan": gone_id + 1000}
            folder = tmp_path / (str(meeting_id[name]) if name in meeting_id else name)
            folder.mkdir()
            (folder / "1.wav").write_bytes(b"RIFF")
            folders[name] = folder
        for name in ("kept", "orphan", "not-a-meeting"):
            age(folders[name], 3600)

        await sync_to_async(purge_expired_meetings)()
        await sync_to_async(purge_expired_meetings)()  # idempotent

    assert not folders["orphan"].exists()
    assert folders["kept"].exists(), "a meeting's own recording is never swept"
    assert folders["fresh-orphan"].exists(), "a folder written lately is left for later"
    assert folders["not-a-meeting"].exists(), "only meeting folders are touched"
