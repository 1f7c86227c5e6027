"""Hands a stream command to the ingest: the Redis queue, or the supervisor in this process."""

from __future__ import annotations

import asyncio
import weakref

from django.conf import settings

from rtms_ingest.cluster.command_queue import RedisCommandQueue
from rtms_ingest.cluster.commands import StreamCommand

__all__ = ["hand_over"]


async def hand_over(command: StreamCommand) -> None:
    """Queue a command; returns as soon as it is queued (the webhook must answer fast)."""
    if settings.RTMS_INGEST_IN_PROCESS:
        # Imported here: only the embedded shape runs the RTMS client in the web process.
        from rtms_ingest.runtime.embedded import in_process_supervisor

        await in_process_supervisor().queue.put(command)
        return
    await _queue().put(command)


# One queue (one Redis connection pool) per event loop: a web process serves every request on
# one loop, so this is one pool per process, not a connection per webhook. Keyed by loop because
# an asyncio Redis client belongs to the loop it was made on (tests run several loops).
_queues: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, tuple[str, RedisCommandQueue]] = (
    weakref.WeakKeyDictionary()
)


def _queue() -> RedisCommandQueue:
    loop = asyncio.get_running_loop()
    kept = _queues.get(loop)
    if kept is None or kept[0] != settings.REDIS_URL:
        kept = _queues[loop] = (settings.REDIS_URL, RedisCommandQueue(settings.REDIS_URL))
    return kept[1]
