"""Ingests as a cluster on the real Redis and PostgreSQL: hand-overs, closing, dead ingests.

In-process supervisors, each with its own holder id, queue, leases and registry, as separate
`run_ingest` processes would have (tests/integration/test_ingest_failover.py signals real ones).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
import redis.asyncio as aioredis
from django.conf import settings

from assistant.models import ConnectionLogEntry, Meeting, TranscriptSegment
from rtms_ingest.cluster.command_queue import RedisCommandQueue
from rtms_ingest.cluster.commands import StreamCommand
from rtms_ingest.cluster.registry import INGESTS_KEY, RedisRegistry
from rtms_ingest.cluster.supervisor import Supervisor
from rtms_ingest.protocol import MsgType, StopReason
from rtms_ingest.simulator.fixture import RecordedMeeting
from tests.rtms_ingest.cluster.supervisor_support import (
    meeting_state,
    simulator,
    start_command,
    supervisor,
    until,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(90)]


def member(**options: Any) -> Supervisor:
    """An ingest of the cluster: with the Redis registry (dead after a second of silence)."""
    options.setdefault("registry", RedisRegistry(settings.REDIS_URL, dead_after_s=1.0))
    options.setdefault("sweep_interval_s", 0.2)
    return supervisor(**options)


async def serve(ingest: Supervisor) -> tuple[asyncio.Event, asyncio.Task[None]]:
    stopping = asyncio.Event()
    return stopping, asyncio.create_task(ingest.run(stopping))


async def live_stream_on(ingest: Supervisor, sim: Any) -> tuple[Any, asyncio.Task[Any]]:
    """A new stream of the simulator, played and started on `ingest` until its meeting is live."""
    stream = sim.new_stream()
    playing = asyncio.create_task(sim.play(stream))
    await ingest.queue.put(start_command(stream))
    await until(lambda: _state_is(stream, Meeting.State.LIVE))
    return stream, playing


async def live_segments(stream: Any) -> int:
    return await TranscriptSegment.objects.filter(
        meeting__rtms_stream_id=stream.rtms_stream_id
    ).acount()


async def test_sigterm_with_another_ingest_alive_hands_the_stream_over_without_closing_it(
    clean_redis: aioredis.Redis, long_meeting: RecordedMeeting
) -> None:
    leaving, staying = member(), member()
    stop_leaving, running_leaving = await serve(leaving)
    async with simulator(long_meeting, speed=1.0) as sim:
        stream, playing = await live_stream_on(leaving, sim)
        assert stream.rtms_stream_id in leaving.streams
        stop_staying, running_staying = await serve(staying)
        await until(lambda: _beating(clean_redis, 2))

        stop_leaving.set()  # SIGTERM
        await asyncio.wait_for(running_leaving, 15)
        await until(lambda: _rejoined(stream))
        assert stream.rtms_stream_id in staying.streams
        await asyncio.sleep(3.0)  # the meeting's utterances are said in its first 3 s
        stop_staying.set()  # nobody is left to take over now: this one closes it
        await asyncio.wait_for(running_staying, 15)
        report = await asyncio.wait_for(playing, 15)
    assert report.signaling_connections == 2  # a fresh handshake from the successor
    assert (leaving.moves["handed_over"], staying.moves["rejoined_handover"]) == (1, 1)
    assert report.received.count(MsgType.STREAM_CLOSE_REQ) == 1  # the last one's only
    meeting = await Meeting.objects.aget(rtms_stream_id=stream.rtms_stream_id)
    assert (meeting.state, meeting.stop_reason) == (Meeting.State.ENDED, 20)
    gap = await ConnectionLogEntry.objects.aget(meeting=meeting, kind="gap")
    assert gap.detail.startswith(f"rejoined: handed over by ingest {leaving.holder_id}")
    said = [frame.key for frame in report.frames("transcript")]
    assert said and await live_segments(stream) == len(said)  # all said while it was held


async def test_sigterm_with_no_other_ingest_alive_closes_the_stream_at_zoom(
    clean_redis: aioredis.Redis, long_meeting: RecordedMeeting
) -> None:
    alone = member()
    stopping, running = await serve(alone)
    async with simulator(long_meeting, speed=1.0) as sim:
        stream, playing = await live_stream_on(alone, sim)
        stopping.set()
        await asyncio.wait_for(running, 15)
        report = await asyncio.wait_for(playing, 15)
    assert MsgType.STREAM_CLOSE_REQ in report.received
    assert report.stop_reason == StopReason.RECEIVER_REQUEST_CLOSE
    assert await meeting_state(stream) == Meeting.State.ENDED


async def test_a_command_forwarded_to_a_dead_ingest_reaches_the_streams_new_holder(
    clean_redis: aioredis.Redis, long_meeting: RecordedMeeting
) -> None:
    holder = member()
    stopping, running = await serve(holder)
    async with simulator(long_meeting, speed=1.0) as sim:
        stream, playing = await live_stream_on(holder, sim)
        # An ingest that died after a stop/interrupt was forwarded to it (it held the stream).
        await clean_redis.zadd(INGESTS_KEY, {"dead-ingest": int(time.time() * 1000) - 5_000})
        sender = RedisCommandQueue(settings.REDIS_URL)
        interrupt = StreamCommand("interrupt", "meeting", stream.owner_id, stream.rtms_stream_id)
        await sender.forward("dead-ingest", interrupt)
        await sender.close()

        await until(lambda: _reconnected(stream))  # the holder got it, from the shared queue
        stopping.set()
        await asyncio.wait_for(running, 15)
        playing.cancel()
        await asyncio.gather(playing, return_exceptions=True)
    assert stream.report.signaling_connections == 2


async def test_a_live_stream_nobody_holds_is_rejoined_by_a_live_ingest(
    clean_redis: aioredis.Redis, long_meeting: RecordedMeeting
) -> None:
    """What a crashed holder leaves: the stream registered live, its lease run out."""
    rescuer = member()
    async with simulator(long_meeting, speed=1.0) as sim:
        stream = sim.new_stream()
        playing = asyncio.create_task(sim.play(stream))
        crashed = member()
        await crashed.handle(start_command(stream))
        await until(lambda: _state_is(stream, Meeting.State.LIVE))
        live = crashed.streams[stream.rtms_stream_id]
        assert live.keeper is not None
        live.keeper.cancel()  # it stops renewing, as a killed process would
        await asyncio.gather(live.keeper, return_exceptions=True)
        await crashed.leases.release(stream.rtms_stream_id, crashed.holder_id)

        stopping, running = await serve(rescuer)
        await until(lambda: _rejoined(stream))
        assert stream.rtms_stream_id in rescuer.streams
        # Its connection, kicked by the rescuer's handshake, comes back: its writes are refused.
        await until(lambda: _fenced_off(live))
        live.client.abandon()
        stopping.set()
        await asyncio.wait_for(running, 15)
        playing.cancel()
        await asyncio.gather(playing, return_exceptions=True)
    gaps = ConnectionLogEntry.objects.filter(
        meeting__rtms_stream_id=stream.rtms_stream_id, kind="gap"
    )
    assert await gaps.filter(detail__contains="taken over").aexists()
    assert rescuer.moves["rejoined_takeover"] >= 1


async def _fenced_off(live: Any) -> bool:
    return bool(live.fence.stale.is_set())


async def _state_is(stream: Any, state: str) -> bool:
    return await meeting_state(stream) == state


async def _beating(r: aioredis.Redis, count: int) -> bool:
    return int(await r.zcard(INGESTS_KEY)) >= count


async def _rejoined(stream: Any) -> bool:
    return await ConnectionLogEntry.objects.filter(
        meeting__rtms_stream_id=stream.rtms_stream_id,
        state=Meeting.State.LIVE,
        detail__startswith="rejoined",
    ).aexists()


async def _reconnected(stream: Any) -> bool:
    return bool(stream.report.signaling_connections >= 2)
