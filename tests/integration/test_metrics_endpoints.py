"""Each process of the production shape serves its own Prometheus figures, and they move.

web (daphne), run_ingest and an `asr` Celery worker as real processes, each with its metrics
port set as docker-compose sets it; a meeting of one sentence played through the simulator.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from asgiref.sync import sync_to_async
from django.conf import settings

from rtms_ingest.simulator import RtmsSimulator
from rtms_ingest.simulator.fixture import RecordedMeeting, load_meeting
from tests.integration.asr_fixtures import write_sample_excerpt
from tests.integration.stack import Stack, free_port, running_stack
from tests.integration.test_end_to_end import meeting_for_stream, simulator_config
from tests.metrics_support import Samples, figure, scrape

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(240)]

METRICS_REDIS_URL = "redis://127.0.0.1:6379/13"  # this stack's broker, queue, leases and audio
PORTS = ("WEB_METRICS_PORT", "RTMS_METRICS_PORT", "WORKER_METRICS_PORT")
CAPTION_KINDS = ("provisional", "final")


@pytest.fixture(scope="module")
def metrics_stack(
    django_db_setup: Any, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    db = settings.DATABASES["default"]
    database_url = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    redis.Redis.from_url(METRICS_REDIS_URL).flushdb()
    env = {"TRANSCRIPTION": "asr"} | {name: str(free_port()) for name in PORTS}
    logs = tmp_path_factory.mktemp("metrics-stack")
    with running_stack(database_url, METRICS_REDIS_URL, logs, env, worker_queues="asr") as stack:
        yield stack


def scrape_all(stack: Stack) -> dict[str, Samples]:
    return {name: scrape(int(stack.env[name]), timeout_s=60) for name in PORTS}


async def test_every_process_serves_figures_that_move_with_a_meeting(
    metrics_stack: Stack, tmp_path: Path
) -> None:
    excerpt: RecordedMeeting = load_meeting(write_sample_excerpt(tmp_path, 8.0))
    before = await sync_to_async(scrape_all)(metrics_stack)
    queued = redis.Redis.from_url(METRICS_REDIS_URL)
    queued.rpush("llm", "a job no worker of this stack takes", "and another")
    config = simulator_config(metrics_stack)
    config.speed = 1.0
    async with RtmsSimulator(excerpt, config) as simulator:
        stream = simulator.new_stream()
        report = await simulator.play(stream)
        await meeting_for_stream(stream.rtms_stream_id)
    assert report.stop_reason == 6
    worker_port = int(metrics_stack.env["WORKER_METRICS_PORT"])
    captions = "assistant_caption_latency_seconds_count"
    deadline = time.monotonic() + 60
    while figure(await sync_to_async(scrape)(worker_port), captions, kind="final") < 1:
        assert time.monotonic() < deadline, "no final caption was timed"
        await asyncio.sleep(0.5)
    after = await sync_to_async(scrape_all)(metrics_stack)
    queued.delete("llm")
    queued.close()

    def moved(process: str, name: str, **labels: str) -> float:
        return figure(after[process], name, **labels) - figure(before[process], name, **labels)

    # web: the rtms_started and rtms_stopped deliveries were answered and timed.
    assert moved("WEB_METRICS_PORT", "rtms_webhook_latency_seconds_count") >= 2
    # ingest: frames in, audio to the speech sink, cuts handed to the asr queue; what waits.
    assert moved("RTMS_METRICS_PORT", "rtms_ingest_frames_received_total") > 0
    assert moved("RTMS_METRICS_PORT", "rtms_ingest_audio_frames_total") > 0
    assert moved("RTMS_METRICS_PORT", "rtms_ingest_asr_cuts_handed_over_total") > 0
    # Ours, and the meeting's notes job when it ended: no `llm` worker runs in this stack.
    assert figure(before["RTMS_METRICS_PORT"], "assistant_jobs_waiting", queue="llm") == 0
    assert figure(after["RTMS_METRICS_PORT"], "assistant_jobs_waiting", queue="llm") >= 2
    assert figure(after["RTMS_METRICS_PORT"], "rtms_ingest_commands_waiting") == 0
    # worker: each final caption's latency, from its audio reaching the ingest.
    finals = moved("WORKER_METRICS_PORT", captions, kind="final")
    seconds = moved("WORKER_METRICS_PORT", "assistant_caption_latency_seconds_sum", kind="final")
    assert finals >= 1
    assert 0 < seconds / finals < 30
    # The test database is flushed after this test: let the worker finish the meeting's last
    # utterances first, or a write landing during the flush can deadlock it.
    await sync_to_async(wait_until_worker_settles)(worker_port)


def wait_until_worker_settles(worker_port: int, quiet_s: float = 1.5) -> None:
    """Return once the asr queue is empty and no caption was timed for `quiet_s`."""
    broker = redis.Redis.from_url(METRICS_REDIS_URL)
    captions = "assistant_caption_latency_seconds_count"
    timed = -1.0
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            samples = scrape(worker_port)
            now_timed = sum(figure(samples, captions, kind=kind) for kind in CAPTION_KINDS)
            if broker.llen("asr") == 0 and now_timed == timed:
                return
            timed = now_timed
            time.sleep(quiet_s)
    finally:
        broker.close()
    raise AssertionError("the asr worker was still busy after 60 s")
