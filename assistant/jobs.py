"""Run a job: hand a Celery task to a worker once the caller's transaction commits.

One call, `submit(name, *args, **kwargs)`, and two shapes behind it:

- production (`JOBS_IN_PROCESS` off, REDIS_URL set): the task goes to Redis and a Celery worker
  of its queue runs it (docker-compose.yml and the Procfile run one worker per queue);
- embedded (`JOBS_IN_PROCESS` on, what `make demo` runs): a small thread pool per queue inside
  this process runs the same task body, off the event loop and off the caller's thread.

Queues (names are promises to ops: workers are started with `-Q asr`, `-Q llm`, `-Q celery`).
A task's name says its queue:

- `asr.<what>` (speech recognition)  -> queue `asr`, one job at a time per worker process;
- `llm.<what>` (AI notes)             -> queue `llm`;
- anything else, e.g. `assistant.<what>` -> Celery's default queue `celery`.

A job is submitted by its task's name, never by the task object, so the code that submits one
(services, the ingest, the embedded beat) never imports a task module: tasks import services,
never the reverse. The name is looked up in Celery's registry at once, in the caller and in
both shapes; a name no task is registered under raises UnknownJob there. The names the app
submits are the constants below; they are promises (other tools may send them), so a task's
registered name never changes.

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

# The jobs the app submits, by the name each task is registered under (`@shared_task(name=...)`).
TRANSCRIBE_UTTERANCE = "asr.transcribe_utterance"
UPDATE_NOTES = "llm.update_notes"
FINAL_NOTES = "llm.final_notes"
REPORT_DEAUTHORIZATION = "assistant.report_deauthorization"
DELIVER_NOTES = "assistant.deliver_notes"
# On the asr queue: like speech recognition, a CPU-bound model loaded once per worker process.
READ_SLIDE = "asr.read_slide"
SUBMITTED_BY_THE_APP = (
    TRANSCRIBE_UTTERANCE,
    UPDATE_NOTES,
    FINAL_NOTES,
    REPORT_DEAUTHORIZATION,
    DELIVER_NOTES,
    READ_SLIDE,
)

# With Redis, priority 0 (a job's default) is served first; a job of this priority after a
# queue's others (kombu's default priority steps: 0, 3, 6, 9).
BEHIND_OTHERS = 6

# Threads per queue in the embedded shape: a laptop holds one Whisper and one LLM call at a time.
IN_PROCESS_THREADS = {ASR: 1, LLM: 1, DEFAULT: 2}

# What a job may be called with: what survives the trip through the broker unchanged in meaning.
Json: TypeAlias = "str | int | float | bool | list[Json] | dict[str, Json] | None"

_pools: dict[str, ThreadPoolExecutor] = {}
_pools_lock = threading.Lock()
_task_modules_lock = threading.Lock()


class JobNotQueued(Exception):
    """The broker could not be reached: the job was not handed over (nothing will run it)."""


class UnknownJob(LookupError):
    """No task is registered under the name a job was submitted with."""


def submit(name: str, /, *args: Json, **kwargs: Json) -> None:
    """Run the task registered as `name` on its queue once the current transaction commits.

    Raises UnknownJob at once when no task has that name, whatever the shape.
    """
    _submit(name, args, kwargs, priority=None)


def submit_behind_others(name: str, /, *args: Json, **kwargs: Json) -> None:
    """Like submit, but a worker takes the queue's other jobs first (drafts behind finals).

    Kombu's Redis transport keeps such a job in the queue's list of priority BEHIND_OTHERS,
    which a worker reads after the queue's own. The in-process shape runs a queue's jobs in
    the order they come (one thread for `asr`).
    """
    _submit(name, args, kwargs, priority=BEHIND_OTHERS)


def _submit(
    name: str, args: tuple[Json, ...], kwargs: dict[str, Json], priority: int | None
) -> None:
    task, queue = _task_and_queue(name)
    # What a worker would receive; a model instance or a set fails here, in the caller.
    payload = json.loads(json.dumps({"args": args, "kwargs": kwargs}))
    if settings.JOBS_IN_PROCESS:
        _after_commit(partial(_enqueue, task, queue, payload["args"], payload["kwargs"]))
    else:
        _after_commit(partial(_publish, task, args, kwargs, priority))


def task_named(name: str) -> Task:
    """The Celery task registered as `name`; UnknownJob when there is none."""
    tasks = celery_app.tasks
    if name not in tasks:
        # A process that only submits jobs has not imported the task modules: now it does.
        _import_task_modules()
    if name not in tasks:
        raise UnknownJob(f"no task is registered as {name!r}")
    return tasks[name]


def queue_for(name: str) -> str:
    """The queue Celery sends task `name` to: its route, else the default queue."""
    return str(celery_app.amqp.router.route({}, name)["queue"].name)


def check_app_jobs() -> None:
    """Import the task modules and check each job the app submits has a task and a queue.

    Raises UnknownJob (or ValueError for a queue no worker consumes). The web process and the
    ingest call it as they start (assistant/asgi.py, run_ingest), so a task renamed without its
    submitters fails there, and their first jobs do not wait for the task modules' import.
    """
    _import_task_modules()
    for name in SUBMITTED_BY_THE_APP:
        _task_and_queue(name)


def _import_task_modules() -> None:
    """Import each installed app's `tasks` module, as a worker does when it starts."""
    # Not loader.import_default_modules(): through Celery's Django fixup it runs every system
    # check each time. Under a lock: Celery's discovery returns at once, having imported
    # nothing, when another thread is already discovering; this thread's task would then be
    # reported unknown.
    with _task_modules_lock:
        celery_app.autodiscover_tasks(force=True)


def _task_and_queue(name: str) -> tuple[Task, str]:
    """The task registered as `name` and the queue it goes to (one a worker consumes)."""
    task = task_named(name)
    queue = queue_for(name)
    if queue not in QUEUES:
        raise ValueError(f"{name} routes to queue {queue!r}, which no worker consumes")
    return task, queue


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


def _publish(
    task: Task, args: tuple[Json, ...], kwargs: dict[str, Json], priority: int | None = None
) -> None:
    """Send the job to the broker (kombu retries briefly); JobNotQueued if it stays unreachable."""
    options = {} if priority is None else {"priority": priority}
    try:
        task.apply_async(args=args, kwargs=kwargs, **options)
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
