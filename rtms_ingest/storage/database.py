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
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, ParamSpec, TypeVar

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import InterfaceError, OperationalError, close_old_connections, connections

from rtms_ingest.client.backoff import Backoff

__all__ = ["close_db_threads", "db_calls_waiting", "run_db", "run_db_once"]

log = logging.getLogger(__name__)

T = TypeVar("T")
P = ParamSpec("P")

# A call that failed because the database or the connection to it did: worth another try.
RETRYABLE = (OperationalError, InterfaceError)
ATTEMPTS = 4


async def run_db(function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Run a service on the ingest's DB threads, retrying a failed connection with backoff.

    Without a retry the client logs the error and the utterance is lost for good (Zoom does not
    deliver it again). Segments, chat lines and joins/leaves are keyed, so a write that may have
    landed (the connection dropped at commit) is stored once; a state, gap or speaker event
    might then be published twice, which viewers show harmlessly.
    """
    run = sync_to_async(_unit_of_work, thread_sensitive=False, executor=_executor())
    backoff = Backoff(initial_s=0.5, max_s=2.0, first_s=0.2)
    attempt = 1
    while True:
        try:
            return await run(function, *args, **kwargs)
        except RETRYABLE as exc:
            if attempt >= ATTEMPTS:
                raise
            delay = backoff.next_delay()
            attempt += 1
            log.warning(
                "%s failed (%s); attempt %d of %d in %.2f s",
                getattr(function, "__name__", function),
                exc,
                attempt,
                ATTEMPTS,
                delay,
            )
            await asyncio.sleep(delay)


async def run_db_once(function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Run a call on the DB threads (kept, health-checked connections) without any retry.

    For the web process's hot path (the webhook): no connection per request and no thread per
    request, and no retry, because a retried keyed insert that had landed would read as a
    duplicate and the delivery would never be acted on (Zoom retries a failed one instead).
    """
    run = sync_to_async(_unit_of_work, thread_sensitive=False, executor=_executor())
    return await run(function, *args, **kwargs)


def _unit_of_work(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Call `function` as Django handles a request: drop a broken or expired connection first.

    Plain sync_to_async never does: a connection that failed outside atomic(), or that the
    server closed while idle, would stay broken on this thread and fail every retry. Before the
    call Django drops an expired connection and arms the health check of a kept one; after it,
    a connection left in error or past its age is dropped rather than kept.
    """
    close_old_connections()
    try:
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
