"""Hands a stream command to the ingest: the Redis queue, or the supervisor in this process."""

from __future__ import annotations

import asyncio
import contextvars
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from asgiref.sync import sync_to_async
from django.conf import settings
from django.utils import timezone

from rtms_ingest.command_queue import RedisCommandQueue
from rtms_ingest.stream_commands import StreamCommand

if TYPE_CHECKING:  # the supervisor pulls in the RTMS client; only the embedded shape needs it
    from rtms_ingest.supervisor import Supervisor

log = logging.getLogger(__name__)


@dataclass
class _InProcessIngest:
    loop: asyncio.AbstractEventLoop
    supervisor: Supervisor
    stopping: asyncio.Event
    task: asyncio.Task[None]


_in_process: _InProcessIngest | None = None


async def submit(command: StreamCommand) -> None:
    """Queue a command; returns as soon as it is queued (the webhook must answer fast)."""
    if settings.RTMS_INGEST_IN_PROCESS:
        await in_process_supervisor().queue.put(command)
        return
    # Webhooks are rare (a few per meeting): a short-lived connection keeps no loop-bound state.
    queue = RedisCommandQueue(settings.REDIS_URL)
    try:
        await queue.put(command)
    finally:
        await queue.close()


def in_process_supervisor() -> Supervisor:
    """The supervisor running inside this (web) process, started on first use."""
    global _in_process
    from rtms_ingest.runtime import build_supervisor

    loop = asyncio.get_running_loop()
    if _in_process is None or _in_process.loop is not loop or _in_process.task.done():
        supervisor = build_supervisor(embedded=True)
        stopping = asyncio.Event()
        # A fresh context: the task outlives the request that may start it, and must not
        # inherit that request's thread-sensitive executor (it shuts down with the request).
        task = loop.create_task(
            _run_embedded(supervisor, stopping, timezone.now()),
            name="rtms-ingest",
            context=contextvars.Context(),
        )
        _in_process = _InProcessIngest(loop, supervisor, stopping, task)
        log.info("started the in-process RTMS ingest")
    return _in_process.supervisor


async def stop_in_process_supervisor() -> None:
    """Close the in-process ingest's streams gracefully (web process shutdown, tests)."""
    global _in_process
    if _in_process is None:
        return
    ingest, _in_process = _in_process, None
    ingest.stopping.set()
    await ingest.task


async def _run_embedded(supervisor: Supervisor, stopping: asyncio.Event, started: datetime) -> None:
    """This process is the only ingest: meetings left open before it started are orphaned."""
    from assistant.services.meetings import fail_orphaned_streams

    try:
        await sync_to_async(fail_orphaned_streams)(lambda stream_ids: set(), started)
        await supervisor.run(stopping)
    finally:
        await supervisor.queue.close()
        await supervisor.leases.close()
