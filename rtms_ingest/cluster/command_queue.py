"""The hand-off from the webhook receiver to the ingest: Redis in production, in-process otherwise.

Production: a Redis list any ingest process on any machine can pop from, plus one pub/sub
channel per ingest process so a command for a stream held elsewhere reaches its holder.
Embedded: an asyncio queue inside the web process.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Protocol, get_args

import redis.asyncio as aioredis
from redis.asyncio.client import PubSub

from rtms_ingest.client.backoff import Backoff
from rtms_ingest.cluster.commands import Action, StreamCommand

log = logging.getLogger(__name__)

COMMANDS_KEY = "rtms:commands"
HOLDER_CHANNEL_PREFIX = "rtms:ingest:"
_ACTIONS = frozenset(get_args(Action))


class CommandQueue(Protocol):
    """Where stream commands wait for an ingest."""

    async def put(self, command: StreamCommand) -> None:
        """Queue a command for any ingest."""

    async def get(self, timeout_s: float) -> StreamCommand | None:
        """The next command, or None after timeout_s."""

    async def forward(self, holder: str, command: StreamCommand) -> None:
        """Send a command to the ingest process that holds the stream."""

    async def close(self) -> None:
        """Stop listening and let go of connections."""


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

    async def get(self, timeout_s: float) -> StreamCommand | None:
        try:
            return await asyncio.wait_for(self._queue.get(), timeout_s)
        except TimeoutError:
            return None

    async def forward(self, holder: str, command: StreamCommand) -> None:
        # One process holds every stream; a forward is a plain re-queue.
        self._queue.put_nowait(command)

    async def close(self) -> None:
        pass


class RedisCommandQueue:
    """The production queue on Redis."""

    def __init__(self, redis_url: str, holder_id: str | None = None) -> None:
        self._redis = aioredis.Redis.from_url(redis_url)
        self._holder_id = holder_id
        self._direct: asyncio.Queue[StreamCommand] = asyncio.Queue()
        self._listener: asyncio.Task[None] | None = None

    async def put(self, command: StreamCommand) -> None:
        await self._redis.lpush(COMMANDS_KEY, command.to_json())

    async def get(self, timeout_s: float) -> StreamCommand | None:
        """The next command (forwarded ones first); raises on Redis errors, drops bad entries."""
        self._ensure_listener()
        if not self._direct.empty():
            return self._direct.get_nowait()
        # Short blocking pops, so a forwarded command waits at most about a second.
        popped = await self._redis.brpop([COMMANDS_KEY], timeout=min(timeout_s, 1.0))
        if popped is None:
            return self._direct.get_nowait() if not self._direct.empty() else None
        return parse_command(popped[1], "queued")

    async def forward(self, holder: str, command: StreamCommand) -> None:
        await self._redis.publish(HOLDER_CHANNEL_PREFIX + holder, command.to_json())

    async def close(self) -> None:
        """Stop the forwarded-commands listener (closing its pub/sub) and the connections."""
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
            self._listener = None
        await self._redis.aclose()

    def _ensure_listener(self) -> None:
        if not self._holder_id:
            return
        if self._listener is not None and self._listener.done():
            if not self._listener.cancelled() and self._listener.exception() is not None:
                log.error("forwarded-commands listener died", exc_info=self._listener.exception())
            self._listener = None
        if self._listener is None:
            self._listener = asyncio.create_task(self._listen(self._holder_id))

    async def _listen(self, holder_id: str) -> None:
        """Receive commands forwarded to this ingest; resubscribe after Redis errors."""
        backoff = Backoff(0.5, 10.0)
        failures = 0
        while True:
            pubsub = self._redis.pubsub()
            try:
                await pubsub.subscribe(HOLDER_CHANNEL_PREFIX + holder_id)
                if failures:
                    log.info("forwarded-commands listener back after %d failures", failures)
                failures = 0
                backoff.reset()
                await self._receive(pubsub)
            except Exception as exc:
                # Commands published while we are away are lost (pub/sub keeps nothing); the
                # stream's next webhook, or its lease running out, settles them.
                if not failures:
                    log.warning("forwarded-commands listener lost Redis (%r); resubscribing", exc)
                failures += 1
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()
            await asyncio.sleep(backoff.next_delay())

    async def _receive(self, pubsub: PubSub) -> None:
        """Queue every forwarded command until the subscription fails."""
        async for message in pubsub.listen():
            if message.get("type") == "message":
                command = parse_command(message["data"], "forwarded")
                if command is not None:
                    self._direct.put_nowait(command)
