"""What the ingests of a cluster know of each other: who is alive, and which streams are live.

- Every ingest beats (`beat`) every couple of seconds. One that stopped beating for `dead_after_s`
  is dead: any live ingest moves the commands forwarded to it back to the shared queue (`reap`).
  An ingest shutting down asks whether any other is alive (`others_alive`) to know whether it
  can hand its streams over.
- Every stream an ingest runs is remembered with its start command (`remember`) until it ends
  for good (`forget`). A live stream whose lease nobody holds (`unheld`) lost its holder: any
  ingest can rejoin it with the remembered command.

Embedded, the one process is the whole cluster: nobody else is alive, nothing is ever unheld.
"""

from __future__ import annotations

import time
from typing import Any, Protocol

import redis

from rtms_ingest.cluster.command_queue import COMMANDS_STREAM, inbox_key, parse_command
from rtms_ingest.cluster.commands import StreamCommand
from rtms_ingest.cluster.leases import LEASE_PREFIX
from rtms_ingest.cluster.redis_client import redis_client

INGESTS_KEY = "rtms:ingests"  # sorted set: holder id -> time of its last beat (ms)
LIVE_STREAMS_KEY = "rtms:live-streams"  # hash: stream id -> its start command

# The live streams whose lease key is missing, with their commands.
_UNHELD = """
local found = {}
local entries = redis.call('hgetall', KEYS[1])
for i = 1, #entries, 2 do
  if redis.call('exists', ARGV[1] .. entries[i]) == 0 then
    table.insert(found, entries[i + 1])
  end
end
return found
"""
# Move a dead ingest's inbox back to the shared stream and forget the ingest; atomic, so two
# reapers never move the same commands twice. ARGV[2] "" moves it whatever the beat says.
_REAP = """
local beat = redis.call('zscore', KEYS[1], ARGV[1])
if ARGV[2] ~= '' and ((not beat) or tonumber(beat) >= tonumber(ARGV[2])) then
  return -1
end
local entries = redis.call('xrange', KEYS[2], '-', '+')
for _, entry in ipairs(entries) do
  redis.call('xadd', KEYS[3], '*', unpack(entry[2]))
end
redis.call('del', KEYS[2])
redis.call('zrem', KEYS[1], ARGV[1])
return #entries
"""


class Registry(Protocol):
    """The ingests alive and the streams live, cluster-wide."""

    async def beat(self, holder: str) -> None:
        """This ingest is alive."""

    async def leave(self, holder: str) -> None:
        """This ingest stops (cleanly): forget it now rather than when it is found dead."""

    async def others_alive(self, holder: str) -> int:
        """How many ingests other than this one beat recently."""

    async def reap(self) -> int:
        """Move the inboxes of dead ingests back to the shared queue; how many commands."""

    async def return_inbox(self, holder: str) -> int:
        """This ingest stops: what was forwarded to it goes back to the shared queue."""

    async def remember(self, command: StreamCommand) -> None:
        """The stream runs (or its start changed): keep the command that rejoins it."""

    async def forget(self, stream_id: str) -> None:
        """The stream is over for good: nobody should rejoin it."""

    async def unheld(self) -> list[StreamCommand]:
        """Live streams whose lease no ingest holds, with the commands that rejoin them."""

    async def close(self) -> None:
        """Let go of connections."""


class SoloRegistry:
    """The embedded shape: one process, so no peers and no stream lost to another."""

    async def beat(self, holder: str) -> None:
        pass

    async def leave(self, holder: str) -> None:
        pass

    async def others_alive(self, holder: str) -> int:
        return 0

    async def reap(self) -> int:
        return 0

    async def return_inbox(self, holder: str) -> int:
        return 0

    async def remember(self, command: StreamCommand) -> None:
        pass

    async def forget(self, stream_id: str) -> None:
        pass

    async def unheld(self) -> list[StreamCommand]:
        return []

    async def close(self) -> None:
        pass


class RedisRegistry:
    """The registry on Redis, shared by every ingest process on every machine."""

    def __init__(self, redis_url: str, *, dead_after_s: float = 10.0) -> None:
        self._redis = redis_client(redis_url, decode_responses=True)
        self.dead_after_s = dead_after_s

    async def beat(self, holder: str) -> None:
        await self._redis.zadd(INGESTS_KEY, {holder: _now_ms()})

    async def leave(self, holder: str) -> None:
        await self._redis.zrem(INGESTS_KEY, holder)

    async def others_alive(self, holder: str) -> int:
        alive: Any = await self._redis.zrangebyscore(INGESTS_KEY, self._dead_before_ms(), "+inf")
        return sum(1 for other in alive if other != holder)

    async def reap(self) -> int:
        dead_before = self._dead_before_ms()
        moved = 0
        dead: Any = await self._redis.zrangebyscore(INGESTS_KEY, "-inf", f"({dead_before}")
        for holder in dead:
            keys = (INGESTS_KEY, inbox_key(holder), COMMANDS_STREAM)
            moved += max(0, int(await self._redis.eval(_REAP, 3, *keys, holder, dead_before)))
        return moved

    async def return_inbox(self, holder: str) -> int:
        keys = (INGESTS_KEY, inbox_key(holder), COMMANDS_STREAM)
        return max(0, int(await self._redis.eval(_REAP, 3, *keys, holder, "")))

    async def remember(self, command: StreamCommand) -> None:
        await self._redis.hset(LIVE_STREAMS_KEY, command.rtms_stream_id, command.to_json())

    async def forget(self, stream_id: str) -> None:
        await self._redis.hdel(LIVE_STREAMS_KEY, stream_id)

    async def unheld(self) -> list[StreamCommand]:
        found = await self._redis.eval(_UNHELD, 1, LIVE_STREAMS_KEY, LEASE_PREFIX)
        commands = (parse_command(raw, "live-stream") for raw in found)
        return [command for command in commands if command is not None]

    async def close(self) -> None:
        await self._redis.aclose()

    def _dead_before_ms(self) -> int:
        return _now_ms() - int(self.dead_after_s * 1000)


def _now_ms() -> int:
    return int(time.time() * 1000)


def rejoinable_streams(redis_url: str, stream_ids: list[str], dead_after_s: float) -> set[str]:
    """Which of these streams a live ingest will rejoin: registered live, and an ingest beats.

    Sync, for Celery tasks (the orphan sweep leaves these to the ingests).
    """
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    try:
        alive = client.zcount(INGESTS_KEY, _now_ms() - int(dead_after_s * 1000), "+inf")
        if not alive or not stream_ids:
            return set()
        registered = client.hmget(LIVE_STREAMS_KEY, stream_ids)
    finally:
        client.close()
    return {stream_id for stream_id, raw in zip(stream_ids, registered, strict=True) if raw}
