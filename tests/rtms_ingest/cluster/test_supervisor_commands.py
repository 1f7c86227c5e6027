"""The supervisor's command loop on the real Redis and PostgreSQL: failures it must outlive."""

from __future__ import annotations

import ast
import asyncio
import dataclasses
import logging
from pathlib import Path

import pytest
import redis.asyncio as aioredis
from asgiref.sync import sync_to_async

from assistant.models import ConnectionLogEntry, Meeting
from assistant.services import meetings
from rtms_ingest.cluster import supervisor as supervisor_module
from rtms_ingest.cluster.command_queue import (
    COMMANDS_STREAM,
    FIELD,
    INBOX_PREFIX,
    RedisCommandQueue,
)
from rtms_ingest.cluster.commands import StreamCommand
from rtms_ingest.cluster.leases import LEASE_PREFIX
from rtms_ingest.cluster.supervisor import Supervisor
from rtms_ingest.protocol import StopReason
from rtms_ingest.simulator.fixture import RecordedMeeting
from tests.rtms_ingest.cluster.redis_link import RedisLink
from tests.rtms_ingest.cluster.supervisor_support import (
    meeting_of,
    meeting_state,
    simulator,
    start_command,
    stop_command,
    supervisor,
    until,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(60)]


async def serve(ingest: Supervisor) -> tuple[asyncio.Event, asyncio.Task[None]]:
    stopping = asyncio.Event()
    return stopping, asyncio.create_task(ingest.run(stopping))


async def test_the_ingest_outlives_a_queue_outage_and_logs_it_once(
    clean_redis: aioredis.Redis,
    short_meeting: RecordedMeeting,
    redis_link: RedisLink,
    caplog: pytest.LogCaptureFixture,
) -> None:
    ingest = supervisor(holder_id="outage-ingest")
    ingest.queue = RedisCommandQueue(redis_link.url, ingest.holder_id)
    stopping, running = await serve(ingest)
    await asyncio.sleep(0.3)
    redis_link.cut()
    await asyncio.sleep(1.5)
    redis_link.restore()
    assert not running.done(), "a queue outage stopped the ingest"
    async with simulator(short_meeting) as sim:
        stream = sim.new_stream()
        playing = asyncio.create_task(sim.play(stream))
        await ingest.queue.put(start_command(stream))
        report = await asyncio.wait_for(playing, 20)
    stopping.set()
    await running
    assert report.joined and report.stop_reason == StopReason.MEETING_ENDED
    queue_alarms = [
        r for r in caplog.records if r.levelno >= logging.WARNING and "queue" in r.getMessage()
    ]
    assert len(queue_alarms) == 1


async def test_malformed_queue_entries_are_dropped_and_the_next_command_served(
    clean_redis: aioredis.Redis, short_meeting: RecordedMeeting
) -> None:
    ingest = supervisor()
    async with simulator(short_meeting) as sim:
        stream = sim.new_stream()
        playing = asyncio.create_task(sim.play(stream))
        garbage = ["not json", "[1, 2]", '{"action": "start"}', '{"bogus": 1}']
        for raw in garbage:
            await clean_redis.xadd(COMMANDS_STREAM, {FIELD: raw})
        await ingest.queue.put(start_command(stream))
        stopping, running = await serve(ingest)
        report = await asyncio.wait_for(playing, 20)
    stopping.set()
    await running
    assert report.joined and report.stop_reason == StopReason.MEETING_ENDED


async def test_a_start_that_fails_after_taking_the_lease_lets_go_and_retries_a_few_times(
    clean_redis: aioredis.Redis, short_meeting: RecordedMeeting, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "rtms_ingest")
    ingest = supervisor()
    ingest.retry_delay_s, ingest.start_attempts = 0.05, 3
    async with simulator(short_meeting) as sim:
        stream = sim.new_stream()
        # PostgreSQL refuses the meeting row (product longer than its column).
        command = dataclasses.replace(start_command(stream), product="p" * 21)
        await ingest.queue.put(command)
        stopping, running = await serve(ingest)
        await until(_gave_up(caplog), timeout_s=10)
        stopping.set()
        await running
    attempts = [r for r in caplog.records if r.msg == "stream %s could not start"]
    assert len(attempts) == 3
    assert await clean_redis.exists(LEASE_PREFIX + stream.rtms_stream_id) == 0
    assert await clean_redis.xlen(COMMANDS_STREAM) == 0


def _gave_up(caplog: pytest.LogCaptureFixture):  # type: ignore[no-untyped-def]
    async def check() -> bool:
        return "gave up" in caplog.text

    return check


async def test_an_interrupt_is_never_forwarded_to_ourselves(clean_redis: aioredis.Redis) -> None:
    ingest = supervisor()
    stream_id = "stream-held-here-not-running"
    await clean_redis.set(LEASE_PREFIX + stream_id, ingest.holder_id, px=10_000)
    command = StreamCommand("interrupt", "meeting", "owner==", stream_id)

    await ingest.handle(command)

    assert await clean_redis.xlen(INBOX_PREFIX + ingest.holder_id) == 0


async def test_a_stream_closed_on_zoom_stop_webhook_ends_with_zoom_stop_reason(
    clean_redis: aioredis.Redis, long_meeting: RecordedMeeting
) -> None:
    ingest = supervisor()
    ingest.stop_grace_s = 0.2
    async with simulator(long_meeting, speed=1.0) as sim:
        stream = sim.new_stream()
        playing = asyncio.create_task(sim.play(stream))
        await ingest.handle(start_command(stream))
        await until(lambda: _state_is(stream, Meeting.State.LIVE))
        # Zoom said stop but the socket goes on: after the grace period we close it.
        await ingest.handle(stop_command(stream, StopReason.HOST_DISABLED_APP))
        await until(lambda: _state_is(stream, Meeting.State.ENDED))
        await asyncio.wait_for(playing, 10)
    meeting = await meeting_of(stream)
    assert meeting.stop_reason == StopReason.HOST_DISABLED_APP
    stop = await ConnectionLogEntry.objects.aget(meeting=meeting, kind="stop")
    assert (stop.reason, stop.detail) == (StopReason.HOST_DISABLED_APP, "stopped by Zoom")


async def _state_is(stream: object, state: str) -> bool:
    return await meeting_state(stream) == state


async def test_a_stop_for_a_stream_nobody_holds_ends_its_meeting_with_zoom_reason(
    clean_redis: aioredis.Redis,
) -> None:
    meeting, _ = await sync_to_async(meetings.open_stream)(
        product="meeting", zoom_id="owner==", rtms_stream_id="stream-nobody-holds"
    )
    command = StreamCommand("stop", "meeting", "owner==", "stream-nobody-holds", stop_reason=6)

    await supervisor().handle(command)

    ended = await Meeting.objects.aget(pk=meeting.pk)
    assert (ended.state, ended.stop_reason) == (Meeting.State.ENDED, 6)


def test_the_supervisor_reaches_meetings_only_through_its_stream_store() -> None:
    tree = ast.parse(Path(supervisor_module.__file__).read_text())
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    imported |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    assert not {name for name in imported if name and name.startswith("assistant.models")}
    assert not {name for name in imported if name and name.split(".")[0] in {"assistant", "django"}}
