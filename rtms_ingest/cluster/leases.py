"""One holder per RTMS stream in the whole cluster: a lease that must be renewed to be kept."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Protocol

import redis
import redis.asyncio as aioredis

from rtms_ingest.client.backoff import Backoff

log = logging.getLogger(__name__)

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

    async def close(self) -> None:
        """Let go of connections (not of leases: those expire unless renewed)."""


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

    async def close(self) -> None:
        pass


class RedisLeases:
    """Leases shared by every ingest process: SET NX PX, renewed by compare-and-set."""

    def __init__(self, redis_url: str) -> None:
        self._redis = aioredis.Redis.from_url(redis_url, decode_responses=True)

    async def acquire(self, stream_id: str, holder: str, ttl_s: float) -> bool:
        key = LEASE_PREFIX + stream_id
        return bool(await self._redis.set(key, holder, nx=True, px=int(ttl_s * 1000)))

    async def renew(self, stream_id: str, holder: str, ttl_s: float) -> bool:
        key = LEASE_PREFIX + stream_id
        result = await self._redis.eval(_RENEW, 1, key, holder, int(ttl_s * 1000))
        return bool(result)

    async def release(self, stream_id: str, holder: str) -> None:
        await self._redis.eval(_RELEASE, 1, LEASE_PREFIX + stream_id, holder)

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


class LeaseInDoubt(Exception):
    """The lease changed hands while we looked at it; ask again shortly."""


async def claim(leases: Leases, stream_id: str, holder: str, ttl_s: float) -> str | None:
    """Take the stream's lease, or keep ours: None if we hold it now, else who does.

    Raises LeaseInDoubt if the lease expired between our questions twice in a row.
    """
    for _ in range(2):
        if await leases.acquire(stream_id, holder, ttl_s):
            return None
        current = await leases.holder(stream_id)
        if current == holder and await leases.renew(stream_id, holder, ttl_s):
            return None  # ours already (a run of ours that ended has not released it yet)
        if current is not None and current != holder:
            return current
        # It expired between acquire and holder (or holder and renew): once more.
    raise LeaseInDoubt(stream_id)


@dataclass
class LeaseKeeper:
    """Renews one stream's lease while the stream runs; takes it back if it lapsed."""

    leases: Leases
    stream_id: str
    holder: str
    ttl_s: float
    retry_max_s: float = 2.0

    async def keep(self) -> str:
        """Renew every ttl/3 until cancelled; returns the new holder if another ingest took over.

        Redis errors are retried with a short backoff. While Redis cannot be reached no other
        ingest can take the lease either (and the orphan sweeper cannot see it lapse), so the
        stream goes on: giving it up would lose a live meeting for nothing.
        """
        backoff = Backoff(self.ttl_s / 10, min(self.retry_max_s, self.ttl_s / 3))
        expires = time.monotonic() + self.ttl_s
        delay, failures, lapsed = self.ttl_s / 3, 0, False
        while True:
            await asyncio.sleep(delay)
            asked = time.monotonic()
            try:
                async with asyncio.timeout(self.ttl_s / 3):
                    other = await self._hold()
            except Exception as exc:
                if not failures:
                    log.warning(
                        "stream %s: lease renewal failed (%r); retrying", self.stream_id, exc
                    )
                if asked > expires and not lapsed:
                    log.error("stream %s: lease may have lapsed; still retrying", self.stream_id)
                    lapsed = True
                failures, delay = failures + 1, backoff.next_delay()
                continue
            if other is not None:
                return other
            if failures:
                log.info("stream %s: lease renewed after %d failures", self.stream_id, failures)
            backoff.reset()
            expires, delay, failures, lapsed = asked + self.ttl_s, self.ttl_s / 3, 0, False

    async def _hold(self) -> str | None:
        """Renew the lease, or take it back if nobody holds it; else who holds it now."""
        if await self.leases.renew(self.stream_id, self.holder, self.ttl_s):
            return None
        other = await claim(self.leases, self.stream_id, self.holder, self.ttl_s)
        if other is None:
            log.warning("stream %s: our lease had lapsed; took it back", self.stream_id)
        return other
