"""Stream leases on the real Redis: claiming, keeping, losing, and their generations."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
import redis
import redis.asyncio as aioredis
from django.conf import settings

from rtms_ingest.cluster.leases import (
    GENERATION_PREFIX,
    LEASE_PREFIX,
    InMemoryLeases,
    LeaseKeeper,
    Leases,
    RedisLeases,
    claim,
    held_streams,
)

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
    generation = await claim(leases, stream_id, "me", 5.0)
    assert isinstance(generation, int) and generation > 0
    assert await leases.holder(stream_id) == "me"
    assert await leases.generation(stream_id) == generation


@pytest.mark.parametrize("kind", ["redis", "in-memory"])
async def test_each_taking_of_a_lease_has_a_larger_generation(
    kind: str, leases: RedisLeases, stream_id: str
) -> None:
    """The fencing token: a takeover always writes under a newer generation than the holder."""
    chosen: Leases = leases if kind == "redis" else InMemoryLeases()
    taken = []
    for holder in ("first", "second", "first"):
        generation = await chosen.acquire(stream_id, holder, 5.0)
        assert generation is not None
        assert await chosen.acquire(stream_id, "someone-else", 5.0) is None
        taken.append(generation)
        await chosen.release(stream_id, holder)
    assert taken == sorted(set(taken))


async def test_generations_keep_growing_when_redis_forgot_the_last(
    leases: RedisLeases, direct: aioredis.Redis, stream_id: str
) -> None:
    """Redis restarted without its data: the next generation is still newer (its clock)."""
    first = await leases.acquire(stream_id, "me", 5.0)
    await direct.delete(LEASE_PREFIX + stream_id, GENERATION_PREFIX + stream_id)
    second = await leases.acquire(stream_id, "other", 5.0)
    assert first is not None and second is not None and second > first


async def test_claim_names_the_ingest_holding_the_stream(
    leases: RedisLeases, stream_id: str
) -> None:
    await leases.acquire(stream_id, "other", 5.0)
    assert await claim(leases, stream_id, "me", 5.0) == "other"
    assert await leases.holder(stream_id) == "other"


async def test_claim_keeps_and_extends_a_lease_we_hold_already(
    leases: RedisLeases, direct: aioredis.Redis, stream_id: str
) -> None:
    generation = await leases.acquire(stream_id, "me", 1.0)
    assert await claim(leases, stream_id, "me", 30.0) == generation
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
    first = await leases.acquire(stream_id, "me", 0.6)
    retaken: list[int] = []
    keeper = LeaseKeeper(leases, stream_id, "me", 0.6, retaken.append)
    keeping = asyncio.create_task(keeper.keep())
    await direct.delete(LEASE_PREFIX + stream_id)
    await asyncio.sleep(0.5)
    holder = await leases.holder(stream_id)
    keeping.cancel()
    await asyncio.gather(keeping, return_exceptions=True)
    assert holder == "me"
    # Taken anew, under a newer generation the stream's writes carry from then on.
    assert first is not None and len(retaken) == 1 and retaken[0] > first


def test_held_streams_names_the_leased_ones(stream_id: str) -> None:
    with redis.Redis.from_url(settings.REDIS_URL) as r:
        r.set(LEASE_PREFIX + stream_id, "someone", px=5_000)
    assert held_streams(settings.REDIS_URL, [stream_id, f"{stream_id}-free"]) == {stream_id}
