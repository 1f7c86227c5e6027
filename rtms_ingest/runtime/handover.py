"""Hands a stream command to the ingest: the Redis queue, or the supervisor in this process."""

from __future__ import annotations

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
    # Webhooks are rare (a few per meeting): a short-lived connection keeps no loop-bound state.
    queue = RedisCommandQueue(settings.REDIS_URL)
    try:
        await queue.put(command)
    finally:
        await queue.close()
