"""Our own captions end to end: simulator audio -> ingest -> Redis -> Celery worker -> viewer.

The production shape as real processes (daphne, run_ingest, a Celery worker on the `asr`
queue) with TRANSCRIPTION=asr, the bundled tiny.en model, and the first 23 s of the sample
meeting (three speakers, one long sentence each) played in real time.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import re
import signal
import subprocess
import wave
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from asgiref.sync import sync_to_async
from django.conf import settings

from assistant.models import Meeting, TranscriptSegment
from assistant.services import speech
from assistant.transcription.wer import word_error_rate
from rtms_ingest.simulator import RtmsSimulator
from rtms_ingest.simulator.fixture import RecordedMeeting, load_meeting
from tests.integration.asr_fixtures import ASR_REDIS_URL, write_sample_excerpt
from tests.integration.stack import Stack, running_stack
from tests.integration.test_end_to_end import meeting_for_stream, simulator_config, viewer

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(240)]

EXCERPT_S = 23.0
MAX_WER = 0.25  # measured: tiny.en on this espeak audio, streamed per utterance


@pytest.fixture(scope="module")
def asr_stack(
    django_db_setup: Any, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    """web, ingest and an `asr` worker, transcribing with our own recogniser only."""
    db = settings.DATABASES["default"]
    database_url = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    redis.Redis.from_url(ASR_REDIS_URL).flushdb()
    env = {
        "TRANSCRIPTION": "asr",  # drafts every second, growing word by word
        # This test is about drafts and their finals: none is shed however loaded the machine
        # (shedding under load: tests/assistant/test_services_streaming.py).
        "ASR_EARLY_DECODE_MAX_LAG_MS": "60000",
        "ASR_PROVISIONAL_MAX_LAG_MS": "60000",
    }
    logs = tmp_path_factory.mktemp("asr-stack")
    with running_stack(database_url, ASR_REDIS_URL, logs, env, worker_queues="asr") as stack:
        yield stack


@pytest.fixture
def excerpt(tmp_path: Path) -> RecordedMeeting:
    return load_meeting(write_sample_excerpt(tmp_path, EXCERPT_S))


def final_captions(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for e in events if e["type"] == "segment" and e["final"] and e["text"]]


async def test_our_captions_match_what_was_said_by_whom_and_drafts_are_replaced(
    asr_stack: Stack, viewer_cookie: tuple[Any, str], excerpt: RecordedMeeting
) -> None:
    _, cookie = viewer_cookie
    config = simulator_config(asr_stack)
    config.speed = 1.0
    async with RtmsSimulator(excerpt, config) as simulator:
        stream = simulator.new_stream()
        playing = asyncio.create_task(simulator.play(stream))
        meeting = await meeting_for_stream(stream.rtms_stream_id)
        watcher = viewer(asr_stack, cookie, meeting.pk)
        # Our last captions may come after the end: the last sentence is recognised then.
        watching = asyncio.create_task(watcher.run(timeout_s=150, stop_at_end=False))
        report = await playing
        origin = report.clock_origin_ms or 0
        await asyncio.wait_for(_every_utterance_captioned(watcher, excerpt, origin), 60)
        watching.cancel()

    finals = final_captions(watcher.events)
    assert {f["source"] for f in finals} == {"asr"}
    for said in excerpt.utterances:
        # Our cutter may split a sentence at a long pause: its captions are those within it.
        within = captions_of(said, finals, origin)
        assert within, f"no caption for {said.text!r}: {finals}"
        assert {f["speaker"] for f in within} == {excerpt.user_name(said.user_id)}
        heard = " ".join(f["text"] for f in sorted(within, key=lambda f: f["start_ms"]))
        assert word_error_rate(said.text, heard) <= MAX_WER, (said.text, heard)
    # Drafts: a long sentence is captioned while it is spoken, then replaced by its final
    # text under the same id; no id is ever captioned final twice.
    segments = watcher.of_type("segment")
    drafts = {e["id"] for e in segments if not e["final"]}
    assert drafts, "a 7 s sentence gets a provisional caption"
    assert drafts <= {f["id"] for f in finals}, "every draft ends as a final (or withdrawn)"
    assert len({f["id"] for f in finals}) == len(finals)
    for draft_id in drafts:
        kinds = [e["final"] for e in segments if e["id"] == draft_id]
        assert kinds[-1] is True and kinds.index(True) == len(kinds) - 1
        # A draft's agreed words (all but its tentative last ones) are never taken back.
        agreed = [
            e["text"].split()[: len(e["text"].split()) - e["tentative_words"]]
            for e in segments
            if e["id"] == draft_id and not e["final"]
        ]
        for before, after in itertools.pairwise(agreed):
            assert after[: len(before)] == before, (before, after)
    # Zoom's transcript was not asked for (Zoom bills the whole session once it is used).
    assert "transcript" not in report.media_params
    stored = [
        (row.pk, row.source, row.final, row.text)
        async for row in TranscriptSegment.objects.filter(meeting=meeting).order_by("start_ms")
    ]
    assert stored == [(f["id"], "asr", True, f["text"]) for f in finals], "stored as captioned"


def captions_of(said: Any, finals: list[dict[str, Any]], origin: int) -> list[dict[str, Any]]:
    """The final captions that start within a spoken utterance (or just before it)."""
    start, end = said.start_s * 1000 - 500, said.end_s * 1000
    return [f for f in finals if start <= f["start_ms"] - origin < end]


async def _every_utterance_captioned(watcher: Any, meeting: RecordedMeeting, origin: int) -> None:
    while not all(
        captions_of(u, final_captions(watcher.events), origin) for u in meeting.utterances
    ):
        await asyncio.sleep(0.05)
    await asyncio.sleep(1.0)  # the rest of a split sentence


def _pool_child(worker_pid: int) -> int:
    children = subprocess.run(
        ["pgrep", "-P", str(worker_pid)], capture_output=True, text=True, check=False
    ).stdout.split()
    assert len(children) == 1, children
    return int(children[0])


async def test_a_worker_killed_mid_utterance_loses_and_doubles_nothing(
    asr_stack: Stack, asr_broker: None, excerpt: RecordedMeeting, tmp_path: Path
) -> None:
    said = excerpt.utterances[1]
    meeting = await Meeting.objects.acreate(zoom_id="kill==", rtms_stream_id="stream-kill")
    pcm = excerpt_pcm(excerpt, said.user_id, said.start_s, said.end_s)
    start_ms, end_ms = round(said.start_s * 1000), round(said.end_s * 1000)
    job = speech.UtteranceJob(
        meeting.pk,
        said.user_id,
        excerpt.user_name(said.user_id),
        start_ms,
        start_ms,
        end_ms,
        0,
        final=True,
    )
    assert asr_stack.log_dir is not None
    log = asr_stack.log_dir / "worker.log"
    received_before = log.read_text().count("] received") if log.exists() else 0
    victim = _pool_child(asr_stack.pids["worker"])

    await sync_to_async(speech.hand_over_utterance)(job, pcm)
    async with asyncio.timeout(30):
        while log.read_text().count("] received") <= received_before:
            await asyncio.sleep(0.02)
    await asyncio.sleep(0.1)  # the child is recognising now (or loading the model first)
    os.kill(victim, signal.SIGKILL)

    async with asyncio.timeout(60):
        while not await TranscriptSegment.objects.filter(meeting=meeting).aexists():
            await asyncio.sleep(0.1)
    await asyncio.sleep(2.0)  # a doubled delivery would land by now
    rows = [row async for row in TranscriptSegment.objects.filter(meeting=meeting)]
    assert len(rows) == 1 and rows[0].final
    assert word_error_rate(said.text, rows[0].text) <= MAX_WER, rows[0].text
    worker_log = log.read_text()
    assert "SIGKILL" in worker_log or "WorkerLostError" in worker_log, worker_log[-2000:]
    received = re.findall(r"transcribe_utterance\[([0-9a-f-]+)\] received", worker_log)
    assert received[received_before:].count(received[received_before]) == 2, "redelivered once"
    assert _pool_child(asr_stack.pids["worker"]) != victim


def excerpt_pcm(meeting: RecordedMeeting, user_id: int, start_s: float, end_s: float) -> bytes:
    """The participant's audio between two times, 16 kHz mono int16."""
    with wave.open(str(meeting.audio_files[user_id])) as track:
        track.setpos(int(start_s * track.getframerate()))
        return track.readframes(int((end_s - start_s) * track.getframerate()))
