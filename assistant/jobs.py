"""Run a job: hand a Celery task to a worker once the caller's transaction commits.

One call, `submit(task, *args, **kwargs)`, and two shapes behind it:

- production (`JOBS_IN_PROCESS` off, REDIS_URL set): the task goes to Redis and a Celery worker
  of its queue runs it (docker-compose.yml and the Procfile run one worker per queue);
- embedded (`JOBS_IN_PROCESS` on, what `make demo` runs): a small thread pool per queue inside
  this process runs the same task body, off the event loop and off the caller's thread.

Queues (names are promises to ops: workers are started with `-Q asr`, `-Q llm`, `-Q celery`).
A task's name says its queue:

- `asr.<what>` (speech recognition)  -> queue `asr`, one job at a time per worker process;
- `llm.<what>` (AI notes)             -> queue `llm`;
- anything else, e.g. `assistant.<what>` -> Celery's default queue `celery`.

The routes live in settings (CELERY_TASK_ROUTES); the in-process pools ask Celery's router, so
both shapes put a task on the same queue. Tasks never set `queue=` (Celery 5.7 deprecates it and
6.0 ignores it): the name routes. Arguments are JSON: ids and plain values, never model
instances (a job reads fresh rows, which only exist for it once the caller has committed).
In the embedded shape, as in Celery's eager mode, a retry runs at once (its countdown is ignored)
and time limits are not enforced.

A task that may meet a database restart takes `**RETRY_THROUGH_DB_OUTAGE`: a connection refused
or cut (OperationalError, InterfaceError) runs the job again later instead of failing it, for
about 90 s. Only for idempotent tasks: a job may have written part of its work before it failed.

When the broker cannot be reached (Redis restarting), handing a job over raises JobNotQueued in
the caller (outside a transaction; inside one, at its commit): the caller decides whether the
job can wait for the next occasion or must be retried.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any, TypeAlias

from celery import Task
from django.conf import settings
from django.db import (
    InterfaceError,
    OperationalError,
    close_old_connections,
    connections,
    transaction,
)
from kombu.exceptions import OperationalError as BrokerUnreachable

from assistant.celery import app as celery_app

log = logging.getLogger(__name__)

ASR = "asr"
LLM = "llm"
DEFAULT = "celery"
QUEUES = (ASR, LLM, DEFAULT)

# Celery task options: a job that finds the database away runs again after 2, 4, 8, 16, 30 and
# 30 s (90 s in all: a restart, or a failover of up to a minute), then fails. Not jittered:
# Celery's jitter is "full" (anywhere from 0 s), which would shorten that span at random.
RETRY_THROUGH_DB_OUTAGE: dict[str, Any] = {
    "autoretry_for": (OperationalError, InterfaceError),
    "retry_backoff": 2,
    "retry_backoff_max": 30,
    "retry_jitter": False,
    "max_retries": 6,
}

# Threads per queue in the embedded shape: a laptop holds one Whisper and one LLM call at a time.
IN_PROCESS_THREADS = {ASR: 1, LLM: 1, DEFAULT: 2}

# What a job may be called with: what survives the trip through the broker unchanged in meaning.
Json: TypeAlias = "str | int | float | bool | list[Json] | dict[str, Json] | None"

_pools: dict[str, ThreadPoolExecutor] = {}
_pools_lock = threading.Lock()


class JobNotQueued(Exception):
    """The broker could not be reached: the job was not handed over (nothing will run it)."""


def submit(task: Task, *args: Json, **kwargs: Json) -> None:
    """Run task(*args, **kwargs) on its queue once the current transaction commits."""
    queue = queue_for(task.name)
    if queue not in QUEUES:
        raise ValueError(f"{task.name} routes to queue {queue!r}, which no worker consumes")
    # What a worker would receive; a model instance or a set fails here, in the caller.
    payload = json.loads(json.dumps({"args": args, "kwargs": kwargs}))
    if settings.JOBS_IN_PROCESS:
        _after_commit(partial(_enqueue, task, queue, payload["args"], payload["kwargs"]))
    else:
        _after_commit(partial(_publish, task, args, kwargs))


def queue_for(name: str) -> str:
    """The queue Celery sends task `name` to: its route, else the default queue."""
    return str(celery_app.amqp.router.route({}, name)["queue"].name)


def shutdown() -> None:
    """Run every job already handed to the in-process pools to its end, then stop the pools."""
    while True:
        with _pools_lock:
            pools = list(_pools.values())
            _pools.clear()
        if not pools:
            return
        # Jobs may submit jobs while we wait; those land in fresh pools the next round drains.
        for pool in pools:
            pool.shutdown(wait=True)


def _after_commit(hand_over: Callable[[], object]) -> None:
    """Call hand_over once the current transaction commits, at once outside a transaction."""
    # Outside an atomic block Django's on_commit would open a connection (async-unsafe) only to
    # check autocommit, which would refuse submit from the event loop.
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(hand_over)
    else:
        hand_over()


def _publish(task: Task, args: tuple[Json, ...], kwargs: dict[str, Json]) -> None:
    """Send the job to the broker (kombu retries briefly); JobNotQueued if it stays unreachable."""
    try:
        task.apply_async(args=args, kwargs=kwargs)
    except BrokerUnreachable as exc:
        raise JobNotQueued(f"{task.name} not queued: {exc}") from exc


def _enqueue(task: Task, queue: str, args: list[Json], kwargs: dict[str, Json]) -> None:
    """Hand the job to the in-process pool of its queue (started on first use)."""
    with _pools_lock:
        pool = _pools.get(queue)
        if pool is None:
            pool = ThreadPoolExecutor(IN_PROCESS_THREADS[queue], thread_name_prefix=f"job-{queue}")
            _pools[queue] = pool
        # Under the lock: shutdown() never stops a pool between our lookup and this submit.
        pool.submit(_run, task, queue, args, kwargs)


def _run(task: Task, queue: str, args: list[Json], kwargs: dict[str, Json]) -> None:
    """Run one job on a pool thread as a Celery worker would."""
    # Like a worker: no stale connection going in, none kept between jobs (they are rare and
    # long; a kept one per pool thread would idle for hours and may be dropped by PostgreSQL).
    close_old_connections()
    try:
        # apply() runs the body under Celery's tracer, as eager mode does: retries, signals and
        # the "Task ... succeeded in" / "raised unexpected" log line, with a failure returned.
        task.apply(args=args, kwargs=kwargs, throw=False)
    except Exception:
        # Only our own plumbing gets here; the pool thread lives on for the next job.
        log.exception("job %s on queue %s crashed outside the task", task.name, queue)
    finally:
        connections.close_all()
