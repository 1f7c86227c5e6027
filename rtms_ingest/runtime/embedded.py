"""The embedded shape's ingest: the supervisor running inside the web process (no Redis).

Started on first use; closed gracefully (STREAM_CLOSE_REQ on every stream) when the process
shuts down, as `run_ingest` does on SIGTERM: daphne's reactor waits for it on Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from assistant.services import broadcasts
from assistant.services.meetings import fail_orphaned_streams
from rtms_ingest.cluster.commands import StreamCommand
from rtms_ingest.cluster.supervisor import Supervisor
from rtms_ingest.runtime.build import build_supervisor
from rtms_ingest.storage.database import close_db_threads, run_db

__all__ = [
    "before_daphne_shutdown",
    "in_process_supervisor",
    "queue_from_any_thread",
    "running_supervisor",
    "stop_in_process_supervisor",
]

log = logging.getLogger(__name__)


@dataclass
class _InProcessIngest:
    loop: asyncio.AbstractEventLoop
    supervisor: Supervisor
    stopping: asyncio.Event
    task: asyncio.Task[None]


_in_process: _InProcessIngest | None = None
# Set when the process shuts down: a late webhook (Zoom's rtms_stopped) must not start it again.
_shut_down = False


def in_process_supervisor() -> Supervisor:
    """The supervisor running inside this (web) process, started on first use."""
    global _in_process
    if _shut_down:
        raise RuntimeError("the in-process RTMS ingest has shut down with this process")
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
        # The loop of this web process, whose in-memory channel layer the jobs push to.
        broadcasts.use_viewers_loop()
        _stop_with_daphne()
        log.info("started the in-process RTMS ingest")
    return _in_process.supervisor


def queue_from_any_thread(command: StreamCommand) -> bool:
    """Queue a command for the in-process ingest from any thread; False if none runs."""
    ingest = _in_process
    if ingest is None or ingest.task.done():
        return False
    asyncio.run_coroutine_threadsafe(ingest.supervisor.queue.put(command), ingest.loop)
    return True


def running_supervisor() -> Supervisor | None:
    """The in-process supervisor if one runs now (for metrics: never starts one)."""
    ingest = _in_process
    return None if ingest is None or ingest.task.done() else ingest.supervisor


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
    try:
        await run_db(fail_orphaned_streams, lambda stream_ids: set(), started)
        await supervisor.run(stopping)
    finally:
        await supervisor.queue.close()
        await supervisor.leases.close()
        await asyncio.to_thread(close_db_threads)


def _stop_with_daphne() -> None:
    """Under daphne, close our streams before its reactor shuts down; never start again then."""

    async def close_streams() -> None:
        global _shut_down
        _shut_down = True
        await stop_in_process_supervisor()

    before_daphne_shutdown(close_streams)


def before_daphne_shutdown(stop: Callable[[], Awaitable[None]]) -> None:
    """Under daphne, make its reactor await `stop()` before it shuts down.

    Daphne stops its Twisted reactor on Ctrl-C and SIGTERM; "before shutdown" triggers may
    return a Deferred, which the reactor waits for while the loop (and the server) still run.
    Elsewhere (tests) the caller stops what it started.
    """
    if "twisted.internet.reactor" not in sys.modules:
        return
    from twisted.internet import defer, reactor

    def trigger() -> defer.Deferred[None]:
        return defer.Deferred.fromFuture(asyncio.ensure_future(stop()))

    # Twisted types the reactor by a zope interface whose methods have no self: mypy misreads it.
    reactor.addSystemEventTrigger("before", "shutdown", trigger)  # type: ignore[arg-type]
