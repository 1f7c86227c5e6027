"""Redis killed (SIGKILL) in the middle of a meeting and started again 3 s later.

The production shape as real processes (daphne, run_ingest, a Celery worker for notes) on a
Redis of this test's own, run as docker-compose runs it: append-only file, its own data folder.
Nothing restarts the web, the ingest or the worker: each must recover by itself.
"""

from __future__ import annotations

import asyncio
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from asgiref.sync import sync_to_async

from assistant.models import LiveEvent, Meeting, MeetingNotes, TranscriptSegment
from assistant.transcription.wer import word_error_rate
from rtms_ingest.simulator import RtmsSimulator
from rtms_ingest.simulator.fixture import load_meeting, sample_meeting
from rtms_ingest.simulator.webhooks import encode_body, signed_headers, webhook_body
from tests.integration.asr_fixtures import write_sample_excerpt
from tests.integration.conftest import log_tail, stack_database_url
from tests.integration.own_redis import OwnRedis
from tests.integration.stack import WEBHOOK_SECRET, Stack, running_stack
from tests.integration.test_asr import MAX_WER, captions_of, final_captions
from tests.integration.test_end_to_end import meeting_for_stream, simulator_config, viewer

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(180)]

SPEED = 4.0  # the 114 s sample in under 30 s
OUTAGE_S = 3.0
# Redis writes its append-only file every second: what reached it in the last second before
# the kill may be gone, so the outage window starts that much before the kill.
AOF_FSYNC_S = 1.0


@pytest.fixture
def stack_on_own_redis(
    django_db_setup: Any, django_db_blocker: Any, own_redis_server: OwnRedis, tmp_path: Path
) -> Iterator[Stack]:
    """web, ingest and a worker for the notes, on the test's Redis."""
    env = {"NOTES_ENGINE": "extractive", "LOG_LEVEL": "INFO"}
    url = own_redis_server.url()
    logs = tmp_path / "logs"
    with running_stack(stack_database_url(), url, logs, env, worker_queues="llm,celery") as stack:
        yield stack


@pytest.fixture
def asr_stack_on_own_redis(
    django_db_setup: Any, django_db_blocker: Any, own_redis_server: OwnRedis, tmp_path: Path
) -> Iterator[Stack]:
    """web, ingest and an `asr` worker (our own recogniser only), on the test's Redis."""
    env = {"TRANSCRIPTION": "asr", "LOG_LEVEL": "INFO"}
    url = own_redis_server.url()
    logs = tmp_path / "logs"
    with running_stack(stack_database_url(), url, logs, env, worker_queues="asr") as stack:
        yield stack


def stack_logs(stack: Stack) -> str:
    assert stack.log_dir is not None
    names = ("web", "ingest", "worker")
    return "\n".join(f"--- {n}\n{log_tail(stack.log_dir / f'{n}.log', 30)}" for n in names)


def post_stop_webhook(stack: Stack, stream_id: str) -> int:
    """A signed rtms_stopped delivery for a stream nobody plays; the HTTP status."""
    body = webhook_body(
        "meeting.rtms_stopped",
        {"meeting_uuid": "outage-probe==", "rtms_stream_id": stream_id, "stop_reason": 6},
    )
    raw = encode_body(body)
    request = urllib.request.Request(  # noqa: S310 (local URL)
        stack.webhook_url, data=raw, headers=signed_headers(WEBHOOK_SECRET, raw)
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


async def test_redis_killed_and_restarted_mid_meeting_loses_nothing_outside_the_outage(
    stack_on_own_redis: Stack, own_redis_server: OwnRedis, viewer_cookie: tuple[Any, str]
) -> None:
    redis_server = own_redis_server
    stack = stack_on_own_redis
    _, cookie = viewer_cookie
    recording = sample_meeting()
    config = simulator_config(stack)
    config.speed = SPEED
    async with RtmsSimulator(recording, config) as simulator:
        stream = simulator.new_stream()
        playing = asyncio.create_task(simulator.play(stream))
        meeting = await meeting_for_stream(stream.rtms_stream_id)
        watcher = viewer(stack, cookie, meeting.pk)
        watching = asyncio.create_task(watcher.follow(timeout_s=120))
        async with asyncio.timeout(30):
            while len(watcher.of_type("segment")) < 6:
                await asyncio.sleep(0.02)

        killed_ns = time.monotonic_ns()
        redis_server.kill()
        during = await asyncio.to_thread(post_stop_webhook, stack, "outage-probe")
        await asyncio.sleep(OUTAGE_S - (time.monotonic_ns() - killed_ns) / 1e9)
        await asyncio.to_thread(redis_server.start)
        back_ns = time.monotonic_ns()
        after = await asyncio.to_thread(post_stop_webhook, stack, "outage-probe")

        report = await asyncio.wait_for(playing, 90)
        await asyncio.wait_for(watching, 60)

    context = stack_logs(stack)
    assert (during, after) == (503, 200), context
    assert report.joined and report.stop_reason == 6, context

    # Every utterance Zoom sent outside the outage is stored, once; inside it, at most once.
    window = (killed_ns - AOF_FSYNC_S * 1e9, back_ns)
    origin = report.clock_origin_ms or 0
    sent = {(f.key[0], f.key[1] - origin): f.monotonic_ns for f in report.frames("transcript")}
    stored = [
        (row.speaker_user_id, row.start_ms - origin, row.text)
        async for row in TranscriptSegment.objects.filter(meeting=meeting).order_by("seq")
    ]
    by_key = {(user, start): text for user, start, text in stored}
    assert len(by_key) == len(stored), "an utterance stored twice"
    for said in recording.utterances:
        key = (said.user_id, round(said.start_s * 1000))
        sent_ns = sent[key]
        if not window[0] <= sent_ns <= window[1]:
            assert by_key.get(key) == said.text, (said.text, context)

    # The viewer, reconnecting with ?since=, ends with every stored event once and in order.
    assert watcher.events == await outbox(meeting.pk), context
    assert [e["text"] for e in watcher.of_type("segment")] == [text for _, _, text in stored]
    assert watcher.connections >= 2, "the socket was dropped with Redis and opened again"

    # The notes worker lived through it: final notes, queued after the restart, were written.
    async with asyncio.timeout(30):
        while not await MeetingNotes.objects.filter(meeting=meeting, is_final=True).aexists():
            await asyncio.sleep(0.2)
    notes = await MeetingNotes.objects.aget(meeting=meeting)
    last = await TranscriptSegment.objects.filter(meeting=meeting).order_by("-seq").afirst()
    assert last is not None and notes.covered_seq == last.seq
    ended = await sync_to_async(Meeting.objects.get)(pk=meeting.pk)
    assert ended.state == Meeting.State.ENDED


async def test_our_captions_lose_nothing_when_redis_restarts_mid_sentence(
    asr_stack_on_own_redis: Stack,
    own_redis_server: OwnRedis,
    viewer_cookie: tuple[Any, str],
    tmp_path: Path,
) -> None:
    """Redis is down from 9.5 s to 12.5 s, in the middle of the second of three sentences."""
    stack = asr_stack_on_own_redis
    _, cookie = viewer_cookie
    excerpt = load_meeting(write_sample_excerpt(tmp_path, 23.0))
    config = simulator_config(stack)
    config.speed = 1.0
    async with RtmsSimulator(excerpt, config) as simulator:
        stream = simulator.new_stream()
        playing = asyncio.create_task(simulator.play(stream))
        meeting = await meeting_for_stream(stream.rtms_stream_id)
        watcher = viewer(stack, cookie, meeting.pk)
        # Our last sentence is recognised after the end: read on past the ended state.
        watching = asyncio.create_task(watcher.follow(timeout_s=120, stop_at_end=False))
        async with asyncio.timeout(30):
            while stream.report.clock_start_ns is None:
                await asyncio.sleep(0.02)
        started_ns = stream.report.clock_start_ns
        await asyncio.sleep(9.5 - (time.monotonic_ns() - started_ns) / 1e9)
        own_redis_server.kill()
        await asyncio.sleep(OUTAGE_S)
        await asyncio.to_thread(own_redis_server.start)
        report = await asyncio.wait_for(playing, 60)
    origin = report.clock_origin_ms or 0
    try:
        async with asyncio.timeout(30):
            while not all(
                captions_of(u, final_captions(watcher.events), origin) for u in excerpt.utterances
            ):
                await asyncio.sleep(0.1)
            await asyncio.sleep(1.0)  # the rest of a sentence our cutter split
            events = await outbox(meeting.pk)
            while len(watcher.events) < len(events):
                await asyncio.sleep(0.1)
    finally:
        watching.cancel()

    context = stack_logs(stack)
    finals = final_captions(watcher.events)
    for said in excerpt.utterances:  # the one spoken across the outage too
        heard = " ".join(f["text"] for f in captions_of(said, finals, origin))
        assert word_error_rate(said.text, heard) <= MAX_WER, (said.text, heard, context)
    stored = [
        (row.pk, row.text)
        async for row in TranscriptSegment.objects.filter(meeting=meeting, final=True)
    ]
    assert sorted((f["id"], f["text"]) for f in finals) == sorted(stored), "each caption once"
    assert watcher.events == events, context
    assert watcher.connections >= 2, "the socket was dropped with Redis and opened again"


async def outbox(meeting_id: int) -> list[dict[str, Any]]:
    """Every live event of the meeting, as stored."""
    return [
        payload
        async for payload in LiveEvent.objects.filter(meeting_id=meeting_id)
        .order_by("seq")
        .values_list("payload", flat=True)
    ]
