"""A live stream's lease on the real Redis: kept through outages, taken back, or handed over."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis
from django.conf import settings

from assistant.models import Meeting
from rtms_ingest.cluster.leases import LEASE_PREFIX, RedisLeases
from rtms_ingest.cluster.supervisor import Supervisor
from rtms_ingest.protocol import MsgType, StopReason
from rtms_ingest.simulator.fixture import RecordedMeeting, load_meeting
from tests.rtms_ingest.cluster.redis_link import RedisLink
from tests.rtms_ingest.cluster.supervisor_support import (
    meeting_of,
    meeting_state,
    simulator,
    start_command,
    supervisor,
    until,
)
from tests.rtms_ingest.simulator.fixtures import write_short_meeting

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(60)]


async def start_live(ingest: Supervisor, stream: object) -> None:
    await ingest.handle(start_command(stream))
    await until(lambda: _is(stream, Meeting.State.LIVE))


async def _is(stream: object, state: str) -> bool:
    return await meeting_state(stream) == state


async def lease_holder(r: aioredis.Redis, stream: Any) -> str | None:
    holder = await r.get(LEASE_PREFIX + stream.rtms_stream_id)
    return holder if isinstance(holder, str) else None


async def test_a_redis_outage_shorter_than_the_ttl_keeps_the_lease(
    clean_redis: aioredis.Redis, long_meeting: RecordedMeeting, redis_link: RedisLink
) -> None:
    ingest = supervisor(leases=RedisLeases(redis_link.url), lease_ttl_s=3.0)
    async with simulator(long_meeting, speed=1.0) as sim:
        stream = sim.new_stream()
        playing = asyncio.create_task(sim.play(stream))
        await start_live(ingest, stream)
        redis_link.cut()
        await asyncio.sleep(1.5)  # at least one renewal fails
        redis_link.restore()
        await asyncio.sleep(3.5)  # past the TTL of the last renewal before the outage
        holder = await lease_holder(clean_redis, stream)
        still_streaming = stream.rtms_stream_id in ingest.streams
        await ingest.shutdown()
        await asyncio.wait_for(playing, 10)
    assert holder == ingest.holder_id
    assert still_streaming


async def test_a_lapsed_lease_nobody_took_is_taken_back_without_closing(
    clean_redis: aioredis.Redis, long_meeting: RecordedMeeting
) -> None:
    ingest = supervisor(lease_ttl_s=1.5)
    async with simulator(long_meeting, speed=1.0) as sim:
        stream = sim.new_stream()
        playing = asyncio.create_task(sim.play(stream))
        await start_live(ingest, stream)
        # As if this process had stalled past the TTL: the lease is gone, nobody took it.
        await clean_redis.delete(LEASE_PREFIX + stream.rtms_stream_id)
        await until(lambda: _held_by(clean_redis, stream, ingest.holder_id), timeout_s=5)
        await asyncio.sleep(0.6)
        received = list(stream.report.received)
        state = await meeting_state(stream)
        await ingest.shutdown()
        await asyncio.wait_for(playing, 10)
    assert MsgType.STREAM_CLOSE_REQ not in received
    assert state == Meeting.State.LIVE


async def _held_by(r: aioredis.Redis, stream: object, holder: str) -> bool:
    return await lease_holder(r, stream) == holder


@pytest.fixture
def eight_second_meeting(tmp_path: Path) -> RecordedMeeting:
    return load_meeting(write_short_meeting(tmp_path, duration_s=8.0))


async def test_a_stream_another_ingest_took_is_left_to_it_and_ends_there(
    clean_redis: aioredis.Redis, eight_second_meeting: RecordedMeeting
) -> None:
    first = supervisor(lease_ttl_s=1.5)
    second = supervisor(holder_id="second-ingest")
    async with simulator(eight_second_meeting, speed=1.0) as sim:
        stream = sim.new_stream()
        playing = asyncio.create_task(sim.play(stream))
        await start_live(first, stream)
        # The lease lapsed (a stall) and the second ingest took it before the first noticed.
        await clean_redis.set(LEASE_PREFIX + stream.rtms_stream_id, "second-ingest", px=30_000)
        await until(lambda: _not_in(first, stream), timeout_s=5)
        await second.handle(start_command(stream))
        report = await asyncio.wait_for(playing, 20)
        await until(lambda: _not_in(second, stream))
    assert MsgType.STREAM_CLOSE_REQ not in report.received
    assert report.stop_reason == StopReason.MEETING_ENDED
    meeting = await meeting_of(stream)
    assert (meeting.state, meeting.stop_reason) == (Meeting.State.ENDED, StopReason.MEETING_ENDED)


async def _not_in(ingest: Supervisor, stream: object) -> bool:
    return stream.rtms_stream_id not in ingest.streams  # type: ignore[attr-defined]


class LeaseLapsesBetweenCallsFake(RedisLeases):
    """Real Redis leases, but the first acquire finds the stream held by an ingest whose lease
    lapses before holder() asks: a race the real Redis cannot be made to show on cue."""

    def __init__(self, redis_url: str) -> None:
        super().__init__(redis_url)
        self.refused = False

    async def acquire(self, stream_id: str, holder: str, ttl_s: float) -> int | None:
        if not self.refused:
            self.refused = True
            return None
        return await super().acquire(stream_id, holder, ttl_s)


async def test_a_start_whose_lease_lapsed_while_asked_tries_again(
    clean_redis: aioredis.Redis, short_meeting: RecordedMeeting
) -> None:
    ingest = supervisor(leases=LeaseLapsesBetweenCallsFake(settings.REDIS_URL))
    async with simulator(short_meeting) as sim:
        stream = sim.new_stream()
        playing = asyncio.create_task(sim.play(stream))
        await ingest.handle(start_command(stream))
        holder = await lease_holder(clean_redis, stream)
        await ingest.shutdown()
        playing.cancel()
        await asyncio.gather(playing, return_exceptions=True)
    assert holder == ingest.holder_id
