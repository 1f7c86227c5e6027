"""The ingest's one way to the database: its own threads, persistent connections, retries.

Every ORM call of the ingest (the storage sink, opening and ending streams, the embedded
runner) goes through `run_db`. Calls run on a pool of threads of their own (`RTMS_DB_THREADS`),
not on asgiref's one thread-sensitive thread: there a slow write of one stream would hold up
every stream and every consumer of this process.

These threads live as long as the process, so each keeps its connection for
`RTMS_DB_CONN_MAX_AGE` seconds, with Django's health check before each unit of work: a write
costs no new connection (a PostgreSQL backend per write, before). The web process cannot do
the same with sync_to_async (under ASGI each request runs on a thread of its own, whose
connection would leak); its webhook receiver uses these threads instead (`run_db_once`).

A database restart cuts every connection and refuses new ones for a while (seconds to a
minute). `run_db` rides out a blip of a few seconds, for callers that have a fallback of their
own (a stream start that fails is queued again). A stream's data has none: Zoom never sends it
again. `run_db_through_outage` therefore retries until the database answers, for up to
`RTMS_DB_RETRY_S`. Its caller waits meanwhile, and the RTMS client awaits each sink call, so
one socket's writes stay in order and what arrives in the meantime waits unparsed in that
socket's backlog, bounded by `RTMS_MEDIA_BACKLOG_BYTES` (past it frames are dropped and recorded
as a gap). Nothing is kept anywhere else: on a kill, what waits is lost with the process.

What a call publishes for viewers (assistant.services.broadcasts) comes back with it: the DB
thread keeps it once committed, and the caller's loop sends it when the thread is done, in
order, before the call returns (or raises). The thread never waits on the channel layer.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, ParamSpec, TypeVar

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import InterfaceError, OperationalError, close_old_connections, connections

from assistant.services import broadcasts
from rtms_ingest.client.backoff import Backoff
from rtms_ingest.storage import metrics

__all__ = [
    "RETRYABLE",
    "close_db_threads",
    "db_calls_waiting",
    "run_db",
    "run_db_once",
    "run_db_through_outage",
]

log = logging.getLogger(__name__)

T = TypeVar("T")
P = ParamSpec("P")

# A call that failed because the database or the connection to it did: worth another try.
RETRYABLE = (OperationalError, InterfaceError)
ATTEMPTS = 4  # run_db: about 3.7 s in all
# Between attempts: quick at first, then every 2 s at most, so a database that is back is
# noticed within about 2 s; jittered, so that the streams of a process do not retry in step.
BACKOFF_INITIAL_S = 0.5
BACKOFF_MAX_S = 2.0
BACKOFF_FIRST_S = 0.2
LOG_EVERY_S = 5.0  # a call failing for longer logs a line this often, not every attempt


async def run_db(function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Run a service on the ingest's DB threads, retrying a failed connection a few times.

    For calls whose caller has a fallback when the database is away for longer (a stream start
    is queued again). Segments, chat lines and joins/leaves are keyed, so a write that may have
    landed (the connection dropped at commit) is stored once; a state, gap or speaker event
    might then be published twice, which viewers show harmlessly.
    """
    return await _retrying(function, args, kwargs, attempts=ATTEMPTS, patience_s=None)


async def run_db_through_outage(function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Like `run_db`, but retried until the database answers again, for up to RTMS_DB_RETRY_S.

    For a stream's data, which nobody sends again: the caller waits (and with it the data behind
    it on the same socket) through a database restart. Raises the last error once the database
    has been away for longer; the caller must then report what it gave up.
    """
    patience_s = float(settings.RTMS_DB_RETRY_S)
    return await _retrying(function, args, kwargs, attempts=None, patience_s=patience_s)


async def _retrying(
    function: Callable[..., T],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    *,
    attempts: int | None,
    patience_s: float | None,
) -> T:
    """Call `function` on the DB threads until it succeeds, raises a non-retryable error, has
    failed `attempts` times, or has still failed `patience_s` after it first failed."""
    backoff = Backoff(BACKOFF_INITIAL_S, BACKOFF_MAX_S, first_s=BACKOFF_FIRST_S)
    name = getattr(function, "__name__", function)
    attempt = 1
    failed_at: float | None = None  # when the first attempt failed
    logged_at = -LOG_EVERY_S
    while True:
        try:
            result = await _on_db_thread(function, args, kwargs)
        except RETRYABLE as exc:
            now = time.monotonic()
            if failed_at is None:
                failed_at = now
            delay = backoff.next_delay()
            if attempts is not None and attempt >= attempts:
                raise
            if patience_s is not None:
                remaining = patience_s - (now - failed_at)
                if remaining <= 0:
                    waited = now - failed_at
                    log.error("%s given up: no database for %.1f s (%s)", name, waited, exc)
                    raise
                delay = min(delay, remaining)  # the last attempt at the end of the patience
            attempt += 1
            metrics.DB_RETRIES.inc()
            if now - logged_at >= LOG_EVERY_S:  # an outage is a line every few seconds
                logged_at = now
                log.warning("%s failed (%s); attempt %d in %.2f s", name, exc, attempt, delay)
            await asyncio.sleep(delay)
        else:
            if failed_at is not None:
                waited = time.monotonic() - failed_at
                log.info("%s done after %.1f s without the database", name, waited)
            return result


async def run_db_once(function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Run a call on the DB threads (kept, health-checked connections) without any retry.

    For the web process's hot path (the webhook): no connection per request and no thread per
    request, and no retry, because a retried keyed insert that had landed would read as a
    duplicate and the delivery would never be acted on (Zoom retries a failed one instead).
    """
    return await _on_db_thread(function, args, kwargs)


async def _on_db_thread(
    function: Callable[..., T], args: tuple[Any, ...], kwargs: dict[str, Any]
) -> T:
    """One attempt: the call on a DB thread, then what it published, sent from this loop."""
    run = sync_to_async(_unit_of_work, thread_sensitive=False, executor=_executor())
    published = broadcasts.Collected()
    try:
        return await run(published, function, *args, **kwargs)
    finally:
        # Also when the call failed after a commit (or this task was cancelled meanwhile: what
        # the thread still publishes is then sent from the thread).
        await broadcasts.send(published.take())


def _unit_of_work(
    published: broadcasts.Collected, function: Callable[..., T], *args: Any, **kwargs: Any
) -> T:
    """Call `function` as Django handles a request: drop a broken or expired connection first.

    Plain sync_to_async never does: a connection that failed outside atomic(), or that the
    server closed while idle, would stay broken on this thread and fail every retry. Before the
    call Django drops an expired connection and arms the health check of a kept one; after it,
    a connection left in error or past its age is dropped rather than kept.
    """
    close_old_connections()
    try:
        with broadcasts.collecting(published):
            return function(*args, **kwargs)
    finally:
        close_old_connections()


def _keep_connections() -> None:
    """Thread initializer: this thread's connections persist, checked before each use."""
    global _threads
    with _pool_lock:
        _threads += 1
    for connection in connections.all():
        connection.settings_dict = {
            **connection.settings_dict,
            "CONN_MAX_AGE": settings.RTMS_DB_CONN_MAX_AGE,
            "CONN_HEALTH_CHECKS": True,
        }


def _close_connections(barrier: threading.Barrier) -> None:
    """Close this thread's connections, then hold the thread until every other one has too."""
    connections.close_all()
    barrier.wait(timeout=10)


_pool: ThreadPoolExecutor | None = None
_threads = 0  # how many threads the pool has started
_pool_lock = threading.Lock()


def _executor() -> ThreadPoolExecutor:
    """The DB thread pool, made on first use (settings are read then, not at import)."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(
                max_workers=settings.RTMS_DB_THREADS,
                thread_name_prefix="rtms-db",
                initializer=_keep_connections,
            )
        return _pool


def db_calls_waiting() -> int:
    """Calls queued for the DB threads and not yet started (for metrics; 0 before first use)."""
    pool = _pool
    # The executor's own queue: the one place that knows (CPython's ThreadPoolExecutor).
    return 0 if pool is None else pool._work_queue.qsize()


def close_db_threads() -> None:
    """Close every connection the DB threads keep and end the threads (ingest shutdown, tests).

    A connection belongs to its thread, so each thread must close its own: one job per thread,
    each held at a barrier until all have run, so that no thread takes two.
    """
    global _pool, _threads
    with _pool_lock:
        pool, _pool = _pool, None
        threads, _threads = _threads, 0
    if pool is None:
        return
    if threads:
        barrier = threading.Barrier(threads)
        for _ in range(threads):
            pool.submit(_close_connections, barrier)
    pool.shutdown(wait=True)
