"""The recording sink: a recorded meeting's audio on disk, placed on the stream clock, bounded;
and `manage.py retranscribe` turning it into the meeting's own transcript again."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from asgiref.sync import sync_to_async
from django.core.management import CommandError, call_command
from django.db import connections
from django.test import override_settings

from assistant import jobs, recordings
from assistant.models import ActionItem, Meeting, MeetingNotes, TranscriptSegment
from assistant.transcription.wer import word_error_rate
from rtms_ingest.protocol import BinaryContent, MediaType
from rtms_ingest.simulator.fixture import load_meeting
from rtms_ingest.storage import recording
from rtms_ingest.storage.recording import RecordingSink, recording_sink
from tests.integration.asr_fixtures import write_sample_excerpt
from tests.rtms_ingest.cluster.supervisor_support import (
    simulator,
    start_command,
    supervisor,
    until,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(180)]

EXCERPT_S = 23.0
MAX_WER = 0.2  # measured 0.13: the `base` model on this espeak excerpt, stretches decoded alone


@pytest.fixture(autouse=True)
async def _db_closed() -> AsyncIterator[None]:
    yield
    await sync_to_async(connections.close_all)()


def voice(ms: int, value: int = 1000) -> bytes:
    return value.to_bytes(2, "little", signed=True) * (ms * 16)


async def recorded_meeting(name: str) -> int:
    """A meeting's id: the sink writes only for a meeting that exists."""
    meeting = await Meeting.objects.acreate(zoom_id=f"{name}==", rtms_stream_id=name)
    return meeting.pk


async def test_each_participant_is_written_to_their_own_file_on_the_stream_clock(
    tmp_path: Path,
) -> None:
    sink = RecordingSink(await recorded_meeting("rec-clock"), tmp_path)
    for n in range(50):  # one second each, the second speaker 10 s later
        await sink.audio(BinaryContent(voice(20), 5_000 + n * 20, user_id=1, user_name="Ana"))
        await sink.audio(BinaryContent(voice(20, -7), 15_000 + n * 20, user_id=2, user_name="Bo"))
    await sink.audio(BinaryContent(voice(20) + b"\x01", 6_000, user_id=1))  # odd length: trimmed
    await sink.close()
    tracks = {}
    for user_id in (1, 2):
        track = recordings.RecordedTrack(
            user_id,
            "",
            (tmp_path / f"{user_id}.wav").read_bytes()[44:],
            tuple(recordings._read_anchors(tmp_path / f"{user_id}.timeline.jsonl")),
        )
        tracks[user_id] = track
    assert len(tracks[1].pcm) == 51 * 640 and len(tracks[2].pcm) == 50 * 640
    assert tracks[1].stream_ms(0) == 5_000 and tracks[2].stream_ms(0) == 15_000
    assert tracks[1].anchors[0].name == "Ana" and tracks[2].anchors[0].name == "Bo"
    assert sink.frames_dropped == 0 and sink.bytes_written == 101 * 640


async def test_a_disk_that_cannot_keep_up_drops_counted_frames_and_keeps_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(recording, "QUEUE_LIMIT_BYTES", 10 * 640)
    meeting_id = await recorded_meeting("rec-disk")
    sink = RecordingSink(meeting_id, tmp_path)
    for n in range(30):  # sent at once: the flush task has no chance to run in between
        await sink.audio(BinaryContent(voice(20), n * 20, user_id=1))
    assert sink.frames_dropped == 20
    await sink.audio(BinaryContent(voice(20), 9_000, user_id=1))  # still full: dropped too
    await sink.close()
    sink2 = RecordingSink(meeting_id, tmp_path)  # the stream resumes after the disk caught up
    await sink2.audio(BinaryContent(voice(20), 10_000, user_id=1))
    await sink2.close()
    anchors = list(recordings._read_anchors(tmp_path / "1.timeline.jsonl"))
    assert [(a.sample, a.stream_ms) for a in anchors] == [(0, 0), (10 * 320, 10_000)]


async def test_recording_is_asked_for_only_when_the_meeting_records(tmp_path: Path) -> None:
    meeting = await Meeting.objects.acreate(zoom_id="r==", rtms_stream_id="rec-choice")
    with override_settings(RECORD_AUDIO=False, RECORDINGS_DIR=tmp_path):
        assert recording_sink(meeting) is None
        meeting.record_audio = True
        sink = recording_sink(meeting)
    assert sink is not None and sink.wants == MediaType.AUDIO


@override_settings(TRANSCRIPTION="native", JOBS_IN_PROCESS=True)
async def test_a_recorded_meeting_is_transcribed_again_by_whom_and_when_it_was_said(
    clean_redis: None, tmp_path: Path, settings: object
) -> None:
    excerpt = load_meeting(write_sample_excerpt(tmp_path / "fixture", EXCERPT_S))
    # What this ingest may ask Zoom for; its sinks ask only for what they consume.
    ingest = supervisor(media=MediaType.TRANSCRIPT | MediaType.CHAT | MediaType.AUDIO)
    with override_settings(RECORD_AUDIO=True, RECORDINGS_DIR=tmp_path / "recordings"):
        async with simulator(excerpt, speed=4.0) as sim:
            stream = sim.new_stream()
            playing = asyncio.create_task(sim.play(stream))
            await ingest.handle(start_command(stream))
            report = await asyncio.wait_for(playing, 60)
            await until(lambda: _no_streams(ingest), 30)
        assert "audio" in report.media_params, "recording asks Zoom for the audio"
        meeting = await Meeting.objects.aget(rtms_stream_id=stream.rtms_stream_id)
        origin = report.clock_origin_ms or 0
        # Notes that cite Zoom's transcript keep citing it; a citation of our old track moves.
        native = await TranscriptSegment.objects.filter(meeting=meeting).afirst()
        assert native is not None
        old = await TranscriptSegment.objects.acreate(
            meeting=meeting,
            seq=10_000,
            source="asr",
            speaker_user_id=native.speaker_user_id,
            start_ms=native.start_ms,
            end_ms=native.end_ms,
            text="old words",
            dedupe_key="old",
        )
        await MeetingNotes.objects.aget_or_create(meeting=meeting)
        item = await ActionItem.objects.acreate(
            meeting=meeting, key="k", text="t", segment_ids=[native.pk, old.pk]
        )
        await sync_to_async(call_command)("retranscribe", str(meeting.pk), "--model", "base")
        await asyncio.to_thread(jobs.shutdown)  # the final notes' job
    ours = [
        row
        async for row in TranscriptSegment.objects.filter(meeting=meeting, source="asr").order_by(
            "start_ms"
        )
    ]
    assert not any(row.text == "old words" for row in ours)
    for said in excerpt.utterances:  # each sentence found, at its time, from its speaker
        heard = [
            row
            for row in ours
            if said.start_s * 1000 - 500 <= row.start_ms - origin < said.end_s * 1000
        ]
        assert heard and all(row.speaker_user_id == said.user_id for row in heard), said
    said_all = " ".join(u.text for u in excerpt.utterances)
    assert word_error_rate(said_all, " ".join(row.text for row in ours)) <= MAX_WER
    await item.arefresh_from_db()
    moved = [row.pk for row in ours if row.start_ms < old.end_ms and row.end_ms > old.start_ms]
    assert item.segment_ids == [native.pk, *moved] and moved
    await meeting.arefresh_from_db()
    assert meeting.transcription == "both", "both tracks now; the primary one is still chosen"


async def _no_streams(ingest: object) -> bool:
    return not getattr(ingest, "streams", None)


async def test_retranscribe_refuses_a_live_or_unrecorded_meeting_and_an_unknown_model(
    tmp_path: Path,
) -> None:
    live = await Meeting.objects.acreate(zoom_id="l==", rtms_stream_id="l", state="live")
    ended = await Meeting.objects.acreate(zoom_id="e==", rtms_stream_id="e", state="ended")
    run = sync_to_async(call_command)
    with override_settings(RECORDINGS_DIR=tmp_path):
        with pytest.raises(CommandError, match="is live"):
            await run("retranscribe", str(live.pk))
        with pytest.raises(CommandError, match="no recording"):
            await run("retranscribe", str(ended.pk))
        with pytest.raises(CommandError, match="no meeting"):
            await run("retranscribe", "999999")
        folder = recordings.meeting_dir(ended.pk)
        writer = recordings.TrackWriter(folder, 1)
        writer.write(0, recordings.Anchor(0, 0), voice(500))
        writer.close()
        with pytest.raises(CommandError, match="no-such-model"):
            await run("retranscribe", str(ended.pk), "--model", "no-such-model")
        with pytest.raises(CommandError, match="nothing was recognised"):
            await run("retranscribe", str(ended.pk))  # a steady hum: no speech
    assert await Meeting.objects.filter(pk=ended.pk, transcription="").aexists()
