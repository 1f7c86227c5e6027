"""Stream leases on the real Redis: claiming, keeping, losing."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
import redis
import redis.asyncio as aioredis
from django.conf import settings

from rtms_ingest.cluster.leases import LEASE_PREFIX, LeaseKeeper, RedisLeases, claim, held_streams

pytestmark = pytest.mark.timeout(30)


@pytest.fixture
async def leases() -> AsyncIterator[RedisLeases]:
    redis_leases = RedisLeases(settings.REDIS_URL)
    yield redis_leases
    await redis_leases.close()


@pytest.fixture
async def direct() -> AsyncIterator[aioredis.Redis]:
    r = aioredis.Redis.from_url(settings.REDIS_URL, decode_responses=True)
    yield r
    await r.aclose()


@pytest.fixture
def stream_id() -> str:
    return f"lease-test-{uuid.uuid4().hex}"


async def test_claim_takes_a_free_stream(leases: RedisLeases, stream_id: str) -> None:
    assert await claim(leases, stream_id, "me", 5.0) is None
    assert await leases.holder(stream_id) == "me"


async def test_claim_names_the_ingest_holding_the_stream(
    leases: RedisLeases, stream_id: str
) -> None:
    await leases.acquire(stream_id, "other", 5.0)
    assert await claim(leases, stream_id, "me", 5.0) == "other"
    assert await leases.holder(stream_id) == "other"


async def test_claim_keeps_and_extends_a_lease_we_hold_already(
    leases: RedisLeases, direct: aioredis.Redis, stream_id: str
) -> None:
    await leases.acquire(stream_id, "me", 1.0)
    assert await claim(leases, stream_id, "me", 30.0) is None
    assert await direct.pttl(LEASE_PREFIX + stream_id) > 10_000


async def test_release_by_another_holder_keeps_the_lease(
    leases: RedisLeases, stream_id: str
) -> None:
    await leases.acquire(stream_id, "me", 5.0)
    await leases.release(stream_id, "other")
    assert not await leases.renew(stream_id, "other", 5.0)
    assert await leases.holder(stream_id) == "me"


async def test_keeper_returns_the_ingest_that_took_the_stream(
    leases: RedisLeases, direct: aioredis.Redis, stream_id: str
) -> None:
    await leases.acquire(stream_id, "me", 0.6)
    await direct.set(LEASE_PREFIX + stream_id, "other", px=5_000)
    keeper = LeaseKeeper(leases, stream_id, "me", 0.6)
    assert await asyncio.wait_for(keeper.keep(), 5) == "other"


async def test_keeper_takes_back_a_lease_that_lapsed(
    leases: RedisLeases, direct: aioredis.Redis, stream_id: str
) -> None:
    await leases.acquire(stream_id, "me", 0.6)
    keeping = asyncio.create_task(LeaseKeeper(leases, stream_id, "me", 0.6).keep())
    await direct.delete(LEASE_PREFIX + stream_id)
    await asyncio.sleep(0.5)
    holder = await leases.holder(stream_id)
    keeping.cancel()
    await asyncio.gather(keeping, return_exceptions=True)
    assert holder == "me"


def test_held_streams_names_the_leased_ones(stream_id: str) -> None:
    with redis.Redis.from_url(settings.REDIS_URL) as r:
        r.set(LEASE_PREFIX + stream_id, "someone", px=5_000)
    assert held_streams(settings.REDIS_URL, [stream_id, f"{stream_id}-free"]) == {stream_id}
