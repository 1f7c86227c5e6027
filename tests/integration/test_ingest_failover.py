"""A meeting outlives the ingest that holds it: real `run_ingest` processes, signalled mid-meeting.

Two ingests share the queue and the leases; the simulator plays the sample meeting and the test
signals the one holding the stream as an orchestrator or a crash would:
- SIGTERM (a rolling deploy): the other rejoins at once, the meeting goes on and ends normally;
- SIGKILL (a crash): the other rejoins once the lease runs out, the meeting ends normally;
- SIGSTOP past the lease, then SIGCONT (a paused, not dead, holder): the other rejoins, and the
  woken one writes nothing more, not even what it had read before it was paused.
Every utterance outside the fault's window is stored exactly once.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import redis
from django.conf import settings

from assistant.models import ConnectionLogEntry, Meeting, TranscriptSegment
from rtms_ingest.cluster.leases import LEASE_PREFIX
from rtms_ingest.protocol import StopReason
from rtms_ingest.simulator import RtmsSimulator, SimulatedStream
from rtms_ingest.simulator.fixture import RecordedMeeting, sample_meeting
from tests.integration.conftest import log_tail
from tests.integration.stack import ROOT, Stack, ingest_command, running_stack
from tests.integration.test_end_to_end import meeting_for_stream, simulator_config

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(240)]

REDIS_URL = "redis://127.0.0.1:6379/8"  # this module's own queue, leases and registry
SPEED = 3.0  # the sample meeting in 38 s: time for a lease to run out mid-meeting
FAULT_AT_MS = 30_000  # on the meeting's clock
LEASE_TTL_S = 6  # the production default


@dataclass
class Ingests:
    """The `run_ingest` processes of the stack, started and signalled by the tests."""

    stack: Stack
    logs: Path
    processes: dict[int, subprocess.Popen[bytes]] = field(default_factory=dict)
    started: int = 0

    def start(self) -> int:
        self.started += 1
        log = (self.logs / f"ingest-{self.started}.log").open("wb")
        process = subprocess.Popen(
            ingest_command(),
            cwd=ROOT,
            env=self.stack.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.processes[process.pid] = process
        return process.pid

    def alive(self) -> list[int]:
        return [pid for pid, process in self.processes.items() if process.poll() is None]

    def keep(self, count: int) -> None:
        """Exactly `count` ingests running, all of them beating in the registry."""
        while len(self.alive()) < count:
            self.start()
        until(lambda: beating(len(self.alive())), 30, "every ingest beating", self.logs)

    def log_of(self, pid: int) -> str:
        for path in sorted(self.logs.glob("ingest-*.log")):
            text = path.read_text(errors="replace")
            if f":{pid}:" in text:
                return text
        return ""

    def stop_all(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGCONT)
                process.terminate()
        for process in self.processes.values():
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


def beating(count: int) -> bool:
    with redis.Redis.from_url(REDIS_URL) as r:
        return int(r.zcount("rtms:ingests", int((time.time() - 5) * 1000), "+inf")) >= count


def until(condition: Any, timeout_s: float, what: str, logs: Path) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(0.1)
    tails = "\n".join(f"--- {p.name}\n{log_tail(p)}" for p in sorted(logs.glob("*.log")))
    raise AssertionError(f"{what}\n{tails}")


@pytest.fixture(scope="module")
def ingests(
    django_db_setup: Any, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Ingests]:
    db = settings.DATABASES["default"]
    database_url = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    redis.Redis.from_url(REDIS_URL).flushdb()
    logs = tmp_path_factory.mktemp("failover")
    env = {"RTMS_LEASE_TTL_S": str(LEASE_TTL_S), "LOG_LEVEL": "INFO"}
    with running_stack(database_url, REDIS_URL, logs, extra_env=env, with_ingest=False) as stack:
        cluster = Ingests(stack, logs)
        try:
            yield cluster
        finally:
            cluster.stop_all()


@dataclass
class Played:
    """One meeting played through a fault, and what the test saw of it."""

    recording: RecordedMeeting
    stream: SimulatedStream
    meeting: Meeting
    holder_pid: int
    fault_ms: int  # meeting clock when the fault hit
    rejoined_ms: int  # meeting clock when another ingest had the stream live again
    stop_reason: int


async def play_through(ingests: Ingests, fault: str, *, resume_after_s: float = 0.0) -> Played:
    """Play the sample meeting; at FAULT_AT_MS signal the holder; wait for the rejoin."""
    ingests.keep(2)
    recording = sample_meeting()
    config = dataclasses.replace(simulator_config(ingests.stack), speed=SPEED)
    async with RtmsSimulator(recording, config) as simulator:
        stream = simulator.new_stream()
        playing = asyncio.create_task(simulator.play(stream))
        meeting = await meeting_for_stream(stream.rtms_stream_id)
        holder_pid = await _holder_pid(stream.rtms_stream_id)
        assert stream.clock is not None or await _until_clock(stream)
        assert stream.clock is not None
        await stream.clock.sleep_until(FAULT_AT_MS)
        fault_ms = stream.clock.now_ms()
        os.kill(holder_pid, getattr(signal, fault))
        if fault == "SIGKILL":
            ingests.processes[holder_pid].wait(timeout=10)
        await _until_rejoined(meeting.pk, timeout_s=30)
        rejoined_ms = stream.clock.now_ms()
        if resume_after_s:
            await asyncio.sleep(resume_after_s)
            os.kill(holder_pid, signal.SIGCONT)
        report = await asyncio.wait_for(playing, 120)
    return Played(
        recording, stream, meeting, holder_pid, fault_ms, rejoined_ms, report.stop_reason or 0
    )


async def _holder_pid(stream_id: str) -> int:
    r = redis.asyncio.Redis.from_url(REDIS_URL, decode_responses=True)
    try:
        async with asyncio.timeout(15):
            while not isinstance(holder := await r.get(LEASE_PREFIX + stream_id), str):
                await asyncio.sleep(0.05)
    finally:
        await r.aclose()
    return int(holder.split(":")[1])


async def _until_clock(stream: SimulatedStream) -> bool:
    async with asyncio.timeout(15):
        while stream.clock is None:
            await asyncio.sleep(0.05)
    return True


async def _until_rejoined(meeting_id: int, timeout_s: float) -> None:
    rejoined = ConnectionLogEntry.objects.filter(
        meeting_id=meeting_id, state=Meeting.State.LIVE, detail__startswith="rejoined"
    ).aexists
    async with asyncio.timeout(timeout_s):
        while not await rejoined():
            await asyncio.sleep(0.05)


async def stored(played: Played) -> list[tuple[int, int]]:
    """(start, end) on the meeting clock of every Zoom caption stored for the meeting."""
    origin = played.stream.report.clock_origin_ms or 0
    rows = TranscriptSegment.objects.filter(
        meeting_id=played.meeting.pk, source=TranscriptSegment.Source.NATIVE
    ).values_list("start_ms", "end_ms")
    return [(start - origin, end - origin) async for start, end in rows]


def spoken(played: Played) -> list[tuple[int, int]]:
    return [(round(u.start_s * 1000), round(u.end_s * 1000)) for u in played.recording.utterances]


async def assert_nothing_lost_or_doubled_outside(played: Played, window: tuple[int, int]) -> None:
    """Every utterance said (delivered at its end) outside the window is stored, each once."""
    rows = await stored(played)
    assert len(rows) == len(set(rows)), "an utterance was stored twice"
    outside = [u for u in spoken(played) if not window[0] <= u[1] <= window[1]]
    missing = [u for u in outside if u not in set(rows)]
    assert not missing, f"lost outside the window {window}: {missing}"
    assert played.stop_reason == StopReason.MEETING_ENDED
    ended = Meeting.objects.filter(pk=played.meeting.pk, state=Meeting.State.ENDED).aexists
    async with asyncio.timeout(15):  # written once the ingest has read Zoom's TERMINATED
        while not await ended():
            await asyncio.sleep(0.1)


async def test_sigterm_hands_the_stream_over_and_the_meeting_goes_on(ingests: Ingests) -> None:
    played = await play_through(ingests, "SIGTERM")
    # A rolling deploy: the successor was live within moments (meeting time runs at SPEED).
    assert played.rejoined_ms - played.fault_ms < 3_000 * SPEED
    await assert_nothing_lost_or_doubled_outside(played, (played.fault_ms, played.rejoined_ms))
    log = ingests.log_of(played.holder_pid)
    assert "handing 1 streams over" in log, log[-3000:]
    assert "closing" not in log  # no STREAM_CLOSE_REQ: Zoom never ended the stream


async def test_sigkill_the_stream_is_rejoined_by_another_ingest(ingests: Ingests) -> None:
    played = await play_through(ingests, "SIGKILL")
    assert played.rejoined_ms - played.fault_ms < (LEASE_TTL_S + 4) * 1000 * SPEED
    await assert_nothing_lost_or_doubled_outside(played, (played.fault_ms, played.rejoined_ms))
    gaps = ConnectionLogEntry.objects.filter(meeting_id=played.meeting.pk, kind="gap")
    assert await gaps.filter(detail__contains="taken over").aexists()


async def test_a_paused_holder_woken_after_the_takeover_writes_nothing(ingests: Ingests) -> None:
    played = await play_through(ingests, "SIGSTOP", resume_after_s=2.0)
    window = (played.fault_ms, played.rejoined_ms)
    await assert_nothing_lost_or_doubled_outside(played, window)
    # What the paused holder had been sent before the takeover stays unwritten: only it had it.
    inside = [u for u in spoken(played) if window[0] + 500 <= u[1] <= window[1] - 500 * SPEED]
    assert inside, "the window should hold an utterance for this test to mean anything"
    assert not set(inside) & set(await stored(played))
    log = ingests.log_of(played.holder_pid)
    assert "stale" in log or "held by" in log, log[-3000:]
