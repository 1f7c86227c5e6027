"""The speech sink under bad audio: bounded, logged, and the stream's keep-alives still answered."""

from __future__ import annotations

import asyncio
import base64
import json
import math
import wave
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import numpy as np
import pytest
import redis
from asgiref.sync import sync_to_async
from django.db import connections
from django.test import override_settings

from assistant import jobs
from assistant.celery import app as celery_app
from assistant.models import Meeting
from assistant.services.speech import UtteranceJob
from rtms_ingest.audio.utterances import CutterSettings
from rtms_ingest.protocol import BinaryContent, MediaType
from rtms_ingest.simulator.fixture import RecordedMeeting, load_meeting
from rtms_ingest.storage.speech import QUEUE_LIMIT, SpeechSink, cutter_settings
from tests.integration.own_redis import OwnRedis, own_redis
from tests.rtms_ingest.cluster.supervisor_support import (
    simulator,
    start_command,
    supervisor,
    until,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(90)]


def tone(ms: int, dbfs: float = -20.0) -> bytes:
    n = ms * 16
    amplitude = 32768 * 10 ** (dbfs / 20) * math.sqrt(2)
    return (amplitude * np.sin(2 * np.pi * 300 * np.arange(n) / 16_000)).astype("<i2").tobytes()


def frame(pcm: bytes, at_ms: int, user_id: int = 5) -> BinaryContent:
    return BinaryContent(data=pcm, timestamp=at_ms, user_id=user_id, user_name="Ana")


@pytest.fixture(autouse=True)
async def _db_closed() -> AsyncIterator[None]:
    """Async ORM calls leave a connection on asgiref's thread; close it after each test."""
    yield
    await sync_to_async(connections.close_all)()


@pytest.fixture
def never_silent(tmp_path: Path) -> RecordedMeeting:
    """One participant whose microphone never stops: 30 s of sound, loud and soft by turns."""
    folder = tmp_path / "never_silent"
    (folder / "audio").mkdir(parents=True)
    (folder / "meeting.json").write_text(
        json.dumps(
            {
                "duration_s": 30.0,
                "participants": [
                    {"user_id": 5, "user_name": "Ana", "join_s": 0.0, "leave_s": None}
                ],
            }
        )
    )
    with wave.open(str(folder / "audio" / "5.wav"), "wb") as track:
        track.setnchannels(1)
        track.setsampwidth(2)
        track.setframerate(16_000)
        # 120 ms loud, 120 ms soft: like speech, never quiet enough to end an utterance.
        track.writeframes(b"".join(tone(120, -15) + tone(120, -35) for _ in range(125)))
    return load_meeting(folder)


@override_settings(
    TRANSCRIPTION="asr",
    JOBS_IN_PROCESS=True,
    ASR_MAX_UTTERANCE_MS=10_000,
    ASR_PROVISIONAL_EVERY_MS=0,
)
async def test_a_voice_that_never_stops_is_cut_into_windows_and_keepalives_are_answered(
    clean_redis: None, never_silent: RecordedMeeting
) -> None:
    ingest = supervisor(media=MediaType.TRANSCRIPT | MediaType.CHAT | MediaType.AUDIO)
    async with simulator(never_silent, speed=3.0) as sim:
        sim.config.keepalive_interval_s = 0.25
        stream = sim.new_stream()
        playing = asyncio.create_task(sim.play(stream))
        await ingest.handle(start_command(stream))
        await until(lambda: _has_sink(ingest))
        [live] = ingest.streams.values()
        [speech_sink] = [s for s in live.sink.sinks if isinstance(s, SpeechSink)]
        report = await asyncio.wait_for(playing, 60)
        await until(lambda: _no_streams(ingest), 30)
    await asyncio.to_thread(jobs.shutdown)  # the recogniser's jobs on this audio end here
    assert not report.dropped_for_missed_keepalive
    sent = {f.key[0]: 0 for f in report.frames("keepalive")}
    for f in report.frames("keepalive"):
        sent[f.key[0]] += 1
    for socket, count in sent.items():
        # Each keep-alive answered (the last may cross the end of the stream).
        assert report.keepalive_answers.get(socket, 0) >= count - 1, (socket, count, report)
    # 30 s of voice in windows of at most 10 s (each cut at its quietest moment near the
    # maximum, so a short rest may follow), each handed over once; nothing dropped.
    assert 3 <= speech_sink.handed_over <= 4
    assert (speech_sink.cuts_dropped, speech_sink.finals_lost) == (0, 0)


async def _has_sink(ingest: object) -> bool:
    return bool(getattr(ingest, "streams", None))


async def _no_streams(ingest: object) -> bool:
    return not getattr(ingest, "streams", None)


async def test_odd_and_wrongly_sampled_frames_are_trimmed_or_dropped_and_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    meeting = await Meeting.objects.acreate(zoom_id="bad==", rtms_stream_id="bad-audio")
    sink = SpeechSink(meeting.pk, CutterSettings(provisional_every_ms=0))
    with override_settings(JOBS_IN_PROCESS=True):
        await sink.audio(frame(tone(20) + b"\x07", 0, user_id=1))  # odd length
        for n in range(1, 25):
            await sink.audio(frame(tone(20), n * 20, user_id=1))
        for n in range(60):  # "16 kHz" frames that hold 10 ms: 8 kHz audio
            await sink.audio(frame(tone(10), n * 20, user_id=2))
        cutters = {uid: speaker.cutter for uid, speaker in sink._speakers.items()}
        await sink.close()
        await asyncio.to_thread(jobs.shutdown)
    assert cutters[1].odd_frames == 1
    assert cutters[2].wrong_rate
    assert sink.handed_over == 1, "the odd frame's participant spoke; the garbled one did not"


@override_settings(JOBS_IN_PROCESS=False, REDIS_URL="redis://127.0.0.1:1/0")
async def test_a_flood_while_the_store_is_down_stays_bounded_and_counts_its_losses() -> None:
    meeting = await Meeting.objects.acreate(zoom_id="flood==", rtms_stream_id="flood")
    sink = SpeechSink(meeting.pk, CutterSettings(provisional_every_ms=500, max_utterance_ms=1000))
    voice, pause = tone(20), bytes(640)
    for n in range(20_000):  # 400 s of speech (0.8 s voice, 0.2 s pause), sent at once
        await sink.audio(frame(voice if n % 50 < 40 else pause, n * 20))
        assert sink._queue is not None and sink._queue.qsize() <= QUEUE_LIMIT
        assert len(sink._pending) <= QUEUE_LIMIT
    assert sink.cuts_dropped > 0 and sink.finals_lost > 0
    await sink.close()


@pytest.fixture
def restartable_redis(tmp_path: Path) -> Iterator[OwnRedis]:
    """The audio store and the broker on a Redis of the test's own, which it may kill."""
    original = celery_app.conf.broker_url
    with (
        own_redis(tmp_path / "redis") as server,
        override_settings(JOBS_IN_PROCESS=False, REDIS_URL=server.url()),
    ):
        _publish_to(server.url())
        yield server
    _publish_to(original)


def _publish_to(url: str) -> None:
    celery_app.conf.broker_url = url
    # The app caches producer pools built from the broker URL: drop them for the new one.
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


async def test_a_sentence_ended_while_redis_restarts_is_handed_over_once_it_is_back(
    restartable_redis: OwnRedis,
) -> None:
    meeting = await Meeting.objects.acreate(zoom_id="restart==", rtms_stream_id="restart")
    sink = SpeechSink(meeting.pk, CutterSettings(provisional_every_ms=0))
    restartable_redis.kill()
    for n in range(75):  # 1 s of voice, then 0.5 s of quiet: the sentence ends
        await sink.audio(frame(tone(20) if n < 50 else bytes(640), n * 20))
    await until(lambda: _trying(sink), 10)
    await asyncio.sleep(2.0)
    await asyncio.to_thread(restartable_redis.start)
    await until(lambda: _handed_over(sink), 20)
    await sink.close()

    assert (sink.handed_over, sink.cuts_dropped, sink.finals_lost) == (1, 0, 0)
    with redis.Redis.from_url(restartable_redis.url()) as client:
        queued = [json.loads(m)["body"] for m in client.lrange("asr", 0, -1)]
        [job] = [UtteranceJob.from_task(json.loads(base64.b64decode(b))[1]) for b in queued]
        assert (job.meeting_id, job.speaker_user_id, job.final) == (meeting.pk, 5, True)
        assert len(client.get(job.audio_key) or b"") == job.end_ms * 32 - job.start_ms * 32


async def _trying(sink: SpeechSink) -> bool:
    """The final cut has left the queue: the sender is handing it over (and failing)."""
    return sink._queue is not None and sink._queue.qsize() == 0 and not sink._pending


async def _handed_over(sink: SpeechSink) -> bool:
    return sink.handed_over == 1


@pytest.mark.parametrize(
    ("policy", "window_ms"), [("attention", 20_000), ("agreement", 20_000), ("latest", 10_000)]
)
def test_drafts_that_commit_words_are_cut_from_the_utterances_start(
    policy: str, window_ms: int
) -> None:
    # The committed words are forced as the decoder's prefix: the draft must hold them all.
    with override_settings(ASR_PROVISIONAL_POLICY=policy, ASR_MAX_UTTERANCE_MS=20_000):
        assert cutter_settings().window_ms == window_ms
