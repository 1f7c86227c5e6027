"""`run_ingest --processes 2`, as docker-compose runs it: worker processes share the queue and
the leases, every meeting is captioned, a worker that dies is replaced, SIGTERM stops them all."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
import redis.asyncio as aioredis
from django.conf import settings

from assistant.models import TranscriptSegment
from rtms_ingest.cluster.leases import LEASE_PREFIX
from rtms_ingest.simulator import RtmsSimulator
from rtms_ingest.simulator.fixture import sample_meeting
from tests.integration.conftest import log_tail
from tests.integration.stack import Stack, running_stack
from tests.integration.test_end_to_end import meeting_for_stream, simulator_config

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(240)]

REDIS_URL = "redis://127.0.0.1:6379/9"  # this stack's own queue and leases
MEETINGS = 3


@pytest.fixture(scope="module")
def two_process_stack(
    django_db_setup: Any, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    db = settings.DATABASES["default"]
    database_url = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    redis.Redis.from_url(REDIS_URL).flushdb()
    logs = tmp_path_factory.mktemp("two-process-stack")
    with running_stack(database_url, REDIS_URL, logs, ingest_args=("--processes", "2")) as stack:
        yield stack


def children(pid: int) -> set[int]:
    found = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True, check=False)
    return {int(line) for line in found.stdout.split()}


def until(condition: Any, timeout_s: float, what: str, log: Path) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(0.1)
    raise AssertionError(f"{what}\n{log_tail(log)}")


async def test_two_worker_processes_caption_every_meeting_and_stop_together(
    two_process_stack: Stack,
) -> None:
    stack = two_process_stack
    parent = stack.pids["ingest"]
    assert stack.log_dir is not None
    log = stack.log_dir / "ingest.log"
    first = until(lambda: _pair(children(parent)), 30, "two workers", log)
    until(lambda: log.read_text().count("waiting for streams") == 2, 30, "both waiting", log)

    recording = sample_meeting()
    holders: set[str] = set()
    async with RtmsSimulator(recording, simulator_config(stack)) as simulator:
        streams = [simulator.new_stream() for _ in range(MEETINGS)]
        plays = [asyncio.create_task(simulator.play(stream)) for stream in streams]
        meetings = [await meeting_for_stream(s.rtms_stream_id) for s in streams]
        watching = asyncio.create_task(_lease_holders(holders))
        reports = await asyncio.wait_for(asyncio.gather(*plays), 120)
        watching.cancel()
    assert all(not r.dropped_for_missed_keepalive for r in reports)
    for meeting in meetings:  # every utterance of every meeting stored once
        count = TranscriptSegment.objects.filter(meeting_id=meeting.pk).acount
        await asyncio.wait_for(_until_count(count, len(recording.utterances)), 30)
    # Both workers took streams from the shared queue (each lease names its holder).
    assert len(holders) == 2, holders

    # A worker that dies is replaced; SIGTERM to the parent stops every worker.
    os.kill(min(first), signal.SIGKILL)
    until(lambda: len(children(parent)) == 2 and children(parent) != first, 30, "restart", log)
    workers = children(parent)
    os.kill(parent, signal.SIGTERM)
    until(lambda: not any(_alive(pid) for pid in workers), 30, "workers stopped", log)


async def _until_count(count: Any, expected: int) -> None:
    while await count() < expected:
        await asyncio.sleep(0.1)
    assert await count() == expected


async def _lease_holders(seen: set[str]) -> None:
    """Who holds the streams' leases, sampled while they play."""
    leases = aioredis.Redis.from_url(REDIS_URL, decode_responses=True)
    try:
        while True:
            async for key in leases.scan_iter(f"{LEASE_PREFIX}*"):
                holder = await leases.get(key)
                if isinstance(holder, str):
                    seen.add(holder)
            await asyncio.sleep(0.2)
    finally:
        await leases.aclose()


def _pair(pids: set[int]) -> set[int] | None:
    return pids if len(pids) == 2 else None


def _alive(pid: int) -> bool:
    """Whether the process runs (a zombie not yet reaped by its parent does not)."""
    stat = Path(f"/proc/{pid}/stat")
    try:
        return stat.read_text().split()[2] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False
