"""One holder per RTMS stream in the whole cluster: a lease that must be renewed to be kept."""

from __future__ import annotations

import time
from typing import Protocol

import redis
import redis.asyncio as aioredis

LEASE_PREFIX = "rtms:lease:"

# Renew or release only if we still hold it: compare-and-set in one round trip.
_RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('pexpire', KEYS[1], ARGV[2])
end
return 0
"""
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('del', KEYS[1])
end
return 0
"""


class Leases(Protocol):
    """Stream leases."""

    async def acquire(self, stream_id: str, holder: str, ttl_s: float) -> bool:
        """Take the stream if nobody holds it."""

    async def renew(self, stream_id: str, holder: str, ttl_s: float) -> bool:
        """Extend our lease; False if we lost it."""

    async def release(self, stream_id: str, holder: str) -> None:
        """Give the stream up if we hold it."""

    async def holder(self, stream_id: str) -> str | None:
        """Who holds the stream now."""


class InMemoryLeases:
    """Leases for the single embedded process."""

    def __init__(self) -> None:
        self._held: dict[str, tuple[str, float]] = {}

    async def acquire(self, stream_id: str, holder: str, ttl_s: float) -> bool:
        if await self.holder(stream_id) is not None:
            return False
        self._held[stream_id] = (holder, time.monotonic() + ttl_s)
        return True

    async def renew(self, stream_id: str, holder: str, ttl_s: float) -> bool:
        if await self.holder(stream_id) != holder:
            return False
        self._held[stream_id] = (holder, time.monotonic() + ttl_s)
        return True

    async def release(self, stream_id: str, holder: str) -> None:
        if await self.holder(stream_id) == holder:
            del self._held[stream_id]

    async def holder(self, stream_id: str) -> str | None:
        entry = self._held.get(stream_id)
        if entry is None or entry[1] < time.monotonic():
            self._held.pop(stream_id, None)
            return None
        return entry[0]


class RedisLeases:
    """Leases shared by every ingest process: SET NX PX, renewed by compare-and-set."""

    def __init__(self, redis_url: str) -> None:
        self._redis = aioredis.Redis.from_url(redis_url, decode_responses=True)

    async def acquire(self, stream_id: str, holder: str, ttl_s: float) -> bool:
        key = LEASE_PREFIX + stream_id
        return bool(await self._redis.set(key, holder, nx=True, px=int(ttl_s * 1000)))

    async def renew(self, stream_id: str, holder: str, ttl_s: float) -> bool:
        key = LEASE_PREFIX + stream_id
        result = await self._redis.eval(_RENEW, 1, key, holder, int(ttl_s * 1000))  # type: ignore[misc]
        return bool(result)

    async def release(self, stream_id: str, holder: str) -> None:
        await self._redis.eval(_RELEASE, 1, LEASE_PREFIX + stream_id, holder)  # type: ignore[misc]

    async def holder(self, stream_id: str) -> str | None:
        value = await self._redis.get(LEASE_PREFIX + stream_id)
        return value if isinstance(value, str) else None

    async def close(self) -> None:
        await self._redis.aclose()


def held_streams(redis_url: str, stream_ids: list[str]) -> set[str]:
    """Which of these streams some ingest holds a lease on now (sync, for Celery tasks)."""
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    try:
        values = client.mget([LEASE_PREFIX + stream_id for stream_id in stream_ids])
    finally:
        client.close()
    return {stream_id for stream_id, value in zip(stream_ids, values, strict=True) if value}
