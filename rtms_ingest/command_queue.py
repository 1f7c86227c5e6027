"""The hand-off from the webhook receiver to the ingest: Redis in production, in-process otherwise.

Production: a Redis list any ingest process on any machine can pop from, plus one pub/sub
channel per ingest process so a command for a stream held elsewhere reaches its holder.
Embedded: an asyncio queue inside the web process.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Protocol

import redis.asyncio as aioredis

from rtms_ingest.stream_commands import StreamCommand

log = logging.getLogger(__name__)

COMMANDS_KEY = "rtms:commands"
HOLDER_CHANNEL_PREFIX = "rtms:ingest:"


class CommandQueue(Protocol):
    """Where stream commands wait for an ingest."""

    async def put(self, command: StreamCommand) -> None:
        """Queue a command for any ingest."""

    async def get(self, timeout_s: float) -> StreamCommand | None:
        """The next command, or None after timeout_s."""

    async def forward(self, holder: str, command: StreamCommand) -> None:
        """Send a command to the ingest process that holds the stream."""


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


class RedisCommandQueue:
    """The production queue on Redis."""

    def __init__(self, redis_url: str, holder_id: str | None = None) -> None:
        self._redis = aioredis.Redis.from_url(redis_url)
        self._holder_id = holder_id
        self._direct: asyncio.Queue[StreamCommand] = asyncio.Queue()
        self._listener: asyncio.Task[None] | None = None

    async def put(self, command: StreamCommand) -> None:
        await self._redis.lpush(COMMANDS_KEY, command.to_json())  # type: ignore[misc]

    async def get(self, timeout_s: float) -> StreamCommand | None:
        self._ensure_listener()
        if not self._direct.empty():
            return self._direct.get_nowait()
        # Short blocking pops, so a forwarded command waits at most about a second.
        popped = await self._redis.brpop([COMMANDS_KEY], timeout=min(timeout_s, 1.0))  # type: ignore[misc]
        if popped is None:
            return self._direct.get_nowait() if not self._direct.empty() else None
        return StreamCommand.from_json(popped[1])

    async def forward(self, holder: str, command: StreamCommand) -> None:
        await self._redis.publish(HOLDER_CHANNEL_PREFIX + holder, command.to_json())

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
        await self._redis.aclose()

    def _ensure_listener(self) -> None:
        if self._holder_id and self._listener is None:
            self._listener = asyncio.create_task(self._listen(self._holder_id))

    async def _listen(self, holder_id: str) -> None:
        pubsub = self._redis.pubsub()
        await pubsub.subscribe(HOLDER_CHANNEL_PREFIX + holder_id)
        async for message in pubsub.listen():
            if message.get("type") == "message":
                try:
                    self._direct.put_nowait(StreamCommand.from_json(message["data"]))
                except (ValueError, TypeError):
                    log.warning("ignored a malformed forwarded command")
