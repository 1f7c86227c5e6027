"""The hand-off from the webhook receiver to the ingest: Redis in production, in-process otherwise.

Production: commands are entries of a Redis stream read through one consumer group, so a
command is acknowledged only once an ingest has acted on it. An ingest that dies between taking
a command and acting on it leaves the entry pending; a live ingest claims it once it has been
idle for `claim_idle_s` (an ingest still working on one keeps it fresh) and acts on it again.
A command for a stream held elsewhere goes to the holder's own inbox stream, read in the same
call; the inbox of an ingest that stopped beating is moved back to the shared stream by any live
ingest (`Peers.reap`), so nothing forwarded to a dead ingest is lost either.

Embedded: an asyncio queue inside the web process.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol, get_args

import redis
import redis.exceptions

from rtms_ingest.cluster.commands import Action, StreamCommand
from rtms_ingest.cluster.redis_client import redis_client

log = logging.getLogger(__name__)

COMMANDS_STREAM = "rtms:command-stream"
INBOX_PREFIX = "rtms:inbox:"
GROUP = "ingest"
# The list the queue used before the stream, and the pub/sub channels it forwarded on: drained
# and still published to, so that during a rolling deploy the previous release's web processes
# and ingests and this release's understand each other.
LEGACY_COMMANDS_KEY = "rtms:commands"
LEGACY_HOLDER_CHANNEL_PREFIX = "rtms:ingest:"
FIELD = "command"
# A command delivered this often and never acknowledged is dropped (logged): it kills ingests.
MAX_DELIVERIES = 5
_ACTIONS = frozenset(get_args(Action))


@dataclass(frozen=True)
class Queued:
    """A command taken from the queue, and what acknowledging it needs."""

    command: StreamCommand
    stream: str = ""  # the Redis stream it came from ("" when there is nothing to acknowledge)
    entry_id: str = ""


class CommandQueue(Protocol):
    """Where stream commands wait for an ingest."""

    async def put(self, command: StreamCommand) -> None:
        """Queue a command for any ingest."""

    async def get(self, timeout_s: float) -> Queued | None:
        """The next command, or None after timeout_s; acknowledge it once acted on."""

    async def ack(self, queued: Queued) -> None:
        """The command was acted on: it will not be delivered again."""

    async def touch(self, queued: Queued) -> None:
        """Still acting on it: keep another ingest from claiming it as abandoned."""

    async def forward(self, holder: str, command: StreamCommand) -> None:
        """Send a command to the ingest process that holds the stream."""

    async def close(self) -> None:
        """Let go of connections."""


def parse_command(raw: str | bytes, origin: str) -> StreamCommand | None:
    """A queued command, or None (logged) if the entry is not one: a bad entry is dropped."""
    try:
        command = StreamCommand.from_json(raw)
    except (ValueError, TypeError):
        log.warning("dropped a malformed %s command: %.200r", origin, raw)
        return None
    if command.action not in _ACTIONS or not isinstance(command.rtms_stream_id, str):
        log.warning("dropped a %s command of no known shape: %.200r", origin, raw)
        return None
    return command


class InProcessCommandQueue:
    """The embedded queue: one asyncio queue, on the loop of the web process."""

    def __init__(self) -> None:
        self._queue: asyncio.Queue[StreamCommand] = asyncio.Queue()

    async def put(self, command: StreamCommand) -> None:
        self._queue.put_nowait(command)

    async def get(self, timeout_s: float) -> Queued | None:
        try:
            return Queued(await asyncio.wait_for(self._queue.get(), timeout_s))
        except TimeoutError:
            return None

    async def ack(self, queued: Queued) -> None:
        """Nothing to do: the process that took it is the only one."""

    async def touch(self, queued: Queued) -> None:
        """Nothing to do: nobody else could claim it."""

    async def forward(self, holder: str, command: StreamCommand) -> None:
        # One process holds every stream; a forward is a plain re-queue.
        self._queue.put_nowait(command)

    async def close(self) -> None:
        pass


def inbox_key(holder: str) -> str:
    """The stream of commands forwarded to one ingest."""
    return INBOX_PREFIX + holder


def put_blocking(redis_url: str, command: StreamCommand) -> None:
    """Queue a command for any ingest from synchronous code (no event loop), as `put` does."""
    # Bounded: the caller is a request or a task that must not hang on a Redis that is away.
    with redis.Redis.from_url(redis_url, socket_timeout=5, socket_connect_timeout=5) as client:
        client.xadd(COMMANDS_STREAM, {FIELD: command.to_json()})


class RedisCommandQueue:
    """The production queue: a Redis stream with a consumer group, and one inbox per ingest.

    Without `holder_id` (the web process) it only puts commands.
    """

    def __init__(
        self, redis_url: str, holder_id: str | None = None, *, claim_idle_s: float = 15.0
    ) -> None:
        self._redis = redis_client(redis_url)
        self._holder_id = holder_id
        self._claim_idle_ms = int(claim_idle_s * 1000)
        self._groups_made: set[str] = set()
        self._claim_due = 0.0
        self._taken: deque[Queued] = deque()  # read together with the one returned

    async def put(self, command: StreamCommand) -> None:
        await self._redis.xadd(COMMANDS_STREAM, {FIELD: command.to_json()})

    async def forward(self, holder: str, command: StreamCommand) -> None:
        raw = command.to_json()
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.xadd(inbox_key(holder), {FIELD: raw})
            # An ingest of the previous release (a rolling deploy) hears only this channel; ours
            # never listen to it, so nothing is acted on twice.
            pipe.publish(LEGACY_HOLDER_CHANNEL_PREFIX + holder, raw)
            await pipe.execute()

    async def get(self, timeout_s: float) -> Queued | None:
        """The next command: forwarded ones first, then abandoned ones, then new ones.

        Raises on Redis errors (the caller retries); drops and acknowledges bad entries.
        """
        if not self._holder_id:
            raise RuntimeError("a queue without a holder id can only put commands")
        if self._taken:
            return self._taken.popleft()
        streams = (inbox_key(self._holder_id), COMMANDS_STREAM)
        try:
            await self._ensure_groups(streams)
            for abandoned in await self._claim_abandoned():
                return abandoned
            answer: Any = await self._redis.xreadgroup(
                GROUP,
                self._holder_id,
                dict.fromkeys(streams, ">"),
                count=1,  # per stream: up to one from the inbox and one from the shared stream
                block=max(1, int(min(timeout_s, 1.0) * 1000)),
            )
        except redis.exceptions.ResponseError as exc:
            if "NOGROUP" not in str(exc):
                raise
            self._groups_made.clear()  # Redis lost its data (restarted without persistence)
            return None
        for stream, entries in answer or []:
            for entry_id, fields in entries:
                taken = await self._received(_text(stream), _text(entry_id), fields)
                if taken is not None:
                    self._taken.append(taken)  # the inbox's first: the stream is listed first
        if self._taken:
            return self._taken.popleft()
        return await self._legacy()

    async def ack(self, queued: Queued) -> None:
        if queued.stream:
            await self._ack_entry(queued.stream, queued.entry_id)

    async def touch(self, queued: Queued) -> None:
        if queued.stream and self._holder_id:
            await self._redis.xclaim(
                queued.stream, GROUP, self._holder_id, 0, [queued.entry_id], justid=True
            )

    async def close(self) -> None:
        await self._redis.aclose()

    async def _ack_entry(self, stream: str, entry_id: str) -> None:
        # Deleted as well: what stays in a stream is what is not acted on yet.
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.xack(stream, GROUP, entry_id)
            pipe.xdel(stream, entry_id)
            await pipe.execute()

    async def _ensure_groups(self, streams: Iterable[str]) -> None:
        for stream in streams:
            if stream in self._groups_made:
                continue
            try:
                await self._redis.xgroup_create(stream, GROUP, id="0", mkstream=True)
            except redis.exceptions.ResponseError as exc:
                if "BUSYGROUP" not in str(exc):
                    raise
            self._groups_made.add(stream)

    async def _claim_abandoned(self) -> list[Queued]:
        """Entries another ingest took and has not acted on for claim_idle_s (checked 1/s)."""
        loop_now = asyncio.get_running_loop().time()
        if loop_now < self._claim_due:
            return []
        self._claim_due = loop_now + 1.0
        assert self._holder_id is not None
        answer: Any = await self._redis.xautoclaim(
            COMMANDS_STREAM, GROUP, self._holder_id, self._claim_idle_ms, "0-0", count=1
        )
        claimed = []
        for entry_id, fields in answer[1]:
            if fields is None:  # deleted meanwhile
                continue
            key = _text(entry_id)
            deliveries = await self._deliveries(key)
            if deliveries > MAX_DELIVERIES:
                log.error("dropped command %s after %d deliveries", fields, deliveries)
                await self._ack_entry(COMMANDS_STREAM, key)
                continue
            log.warning("took over command %s, left unacknowledged by another ingest", key)
            queued = await self._received(COMMANDS_STREAM, key, fields)
            if queued is not None:
                claimed.append(queued)
        return claimed

    async def _deliveries(self, entry_id: str) -> int:
        pending = await self._redis.xpending_range(
            COMMANDS_STREAM, GROUP, min=entry_id, max=entry_id, count=1
        )
        return int(pending[0]["times_delivered"]) if pending else 0

    async def _received(self, stream: str, entry_id: str, fields: Any) -> Queued | None:
        raw = fields.get(FIELD.encode()) if isinstance(fields, dict) else None
        if raw is None:
            log.warning("dropped a queue entry without a command: %.200r", fields)
        command = parse_command(raw, "queued") if raw is not None else None
        if command is None:
            await self._ack_entry(stream, entry_id)
            return None
        return Queued(command, stream, entry_id)

    async def _legacy(self) -> Queued | None:
        """A command left in the list of the previous release, if any (not acknowledged)."""
        raw: Any = await self._redis.rpop(LEGACY_COMMANDS_KEY)
        if raw is None:
            return None
        command = parse_command(raw, "legacy-queued")
        return Queued(command) if command is not None else None


def _text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value
