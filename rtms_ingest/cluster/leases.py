"""One holder per RTMS stream in the whole cluster: a lease that must be renewed to be kept.

Every time a stream's lease is taken it gets a new, larger generation (a fencing token): the
holder writes under it, and the app refuses a write under an older generation than one it has
seen for the stream. So an ingest that was only paused past its lease (not dead) cannot write
after another took the stream over. Generations are the Redis server's clock in microseconds,
or one more than the stream's last, whichever is larger: they keep growing even if Redis lost
its data.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import redis

from rtms_ingest.client.backoff import Backoff
from rtms_ingest.cluster.redis_client import redis_client

log = logging.getLogger(__name__)

LEASE_PREFIX = "rtms:lease:"
GENERATION_PREFIX = "rtms:lease-generation:"
# A stream's last generation is kept this long after it was taken (a meeting is shorter).
GENERATION_KEEP_S = 7 * 24 * 3600

# Take a free lease and give it the next generation; 0 if somebody holds it.
_ACQUIRE = """
if not redis.call('set', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return 0
end
local now = redis.call('time')
local generation = tonumber(now[1]) * 1000000 + tonumber(now[2])
local last = tonumber(redis.call('get', KEYS[2]) or '0')
if generation <= last then
  generation = last + 1
end
redis.call('set', KEYS[2], generation, 'EX', ARGV[3])
return generation
"""
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

    async def acquire(self, stream_id: str, holder: str, ttl_s: float) -> int | None:
        """Take the stream if nobody holds it: its new generation, or None."""

    async def generation(self, stream_id: str) -> int:
        """The generation the stream's lease was last taken with (0 if never)."""

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
        self._generations: dict[str, int] = {}

    async def acquire(self, stream_id: str, holder: str, ttl_s: float) -> int | None:
        if await self.holder(stream_id) is not None:
            return None
        self._held[stream_id] = (holder, time.monotonic() + ttl_s)
        generation = self._generations[stream_id] = max(
            time.time_ns() // 1000, self._generations.get(stream_id, 0) + 1
        )
        return generation

    async def generation(self, stream_id: str) -> int:
        return self._generations.get(stream_id, 0)

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
        self._redis = redis_client(redis_url, decode_responses=True)

    async def acquire(self, stream_id: str, holder: str, ttl_s: float) -> int | None:
        keys = (LEASE_PREFIX + stream_id, GENERATION_PREFIX + stream_id)
        generation = await self._redis.eval(
            _ACQUIRE, 2, *keys, holder, int(ttl_s * 1000), GENERATION_KEEP_S
        )
        return int(generation) or None

    async def generation(self, stream_id: str) -> int:
        value = await self._redis.get(GENERATION_PREFIX + stream_id)
        return int(value) if value else 0

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


async def claim(leases: Leases, stream_id: str, holder: str, ttl_s: float) -> int | str:
    """Take the stream's lease, or keep ours: our generation if we hold it now, else who does.

    Raises LeaseInDoubt if the lease expired between our questions twice in a row.
    """
    for _ in range(2):
        generation = await leases.acquire(stream_id, holder, ttl_s)
        if generation is not None:
            return generation
        current = await leases.holder(stream_id)
        if current == holder and await leases.renew(stream_id, holder, ttl_s):
            # Ours already (a run of ours that ended has not released it yet).
            return await leases.generation(stream_id)
        if current is not None and current != holder:
            return current
        # It expired between acquire and holder (or holder and renew): once more.
    raise LeaseInDoubt(stream_id)


@dataclass
class LeaseKeeper:
    """Renews one stream's lease while the stream runs; takes it back if it lapsed.

    Taking a lapsed lease back gives it a new generation, passed to `retaken`: the stream's
    writes carry it from then on.
    """

    leases: Leases
    stream_id: str
    holder: str
    ttl_s: float
    retaken: Callable[[int], None] = lambda generation: None  # told each new generation
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
        claimed = await claim(self.leases, self.stream_id, self.holder, self.ttl_s)
        if isinstance(claimed, str):
            return claimed
        log.warning("stream %s: our lease had lapsed; took it back", self.stream_id)
        self.retaken(claimed)
        return None
