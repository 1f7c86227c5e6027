"""assistant.jobs: jobs leave only once their transaction commits, on the queue their name routes.

Production shape: a real Redis broker (DB 12, used by no other test) and a real Celery worker.
Embedded shape: the in-process pools, on the real PostgreSQL.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis
from celery import shared_task
from django.conf import settings as django_settings
from django.db import connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from pytest_django.fixtures import Settings

from assistant import jobs
from assistant.celery import app as celery_app
from assistant.models import WebhookDelivery
from tests.assistant.job_tasks import RAN_KEY, RECORDERS, asr_record, llm_record, record
from tests.integration.stack import ROOT, stack_env

pytestmark = pytest.mark.django_db(transaction=True)
BROKER_URL = "redis://127.0.0.1:6379/12"


# --- Embedded-shape test tasks: they report to RUNS from the pool threads. -------------------


@dataclass(frozen=True)
class Run:
    """One job as it ran on a pool thread."""

    task: str
    thread: str
    thread_id: int
    started: float
    finished: float
    seen_event: str | None = None
    connection: BaseDatabaseWrapper | None = None


RUNS: list[Run] = []


def _nap(task: str, seconds: float) -> None:
    started = time.monotonic()
    time.sleep(seconds)
    thread = threading.current_thread()
    RUNS.append(Run(task, thread.name, threading.get_ident(), started, time.monotonic()))


@shared_task(name="tests.jobs.nap")
def nap(seconds: float) -> None:
    """Sleep on the default queue."""
    _nap("nap", seconds)


@shared_task(name="asr.tests.nap")
def asr_nap(seconds: float) -> None:
    """Sleep on the asr queue."""
    _nap("asr_nap", seconds)


@shared_task(name="llm.tests.nap")
def llm_nap(seconds: float) -> None:
    """Sleep on the llm queue."""
    _nap("llm_nap", seconds)


@shared_task(name="asr.tests.boom")
def asr_boom() -> None:
    """Fail on the asr queue (a single-thread pool)."""
    raise RuntimeError("boom")


@shared_task(name="tests.jobs.read_delivery")
def read_delivery(delivery_id: int) -> None:
    """Read a delivery's event from the database, as a job reads what its caller committed."""
    started = time.monotonic()
    event = WebhookDelivery.objects.filter(pk=delivery_id).values_list("event", flat=True).first()
    thread = threading.current_thread()
    RUNS.append(
        Run(
            "read_delivery",
            thread.name,
            threading.get_ident(),
            started,
            time.monotonic(),
            seen_event=event,
            connection=connections["default"],
        )
    )


# --- Fixtures ------------------------------------------------------------------------------------


@pytest.fixture
def in_process(settings: Settings) -> Iterator[list[Run]]:
    """The embedded shape; the pools are drained and stopped afterwards."""
    settings.JOBS_IN_PROCESS = True
    RUNS.clear()
    yield RUNS
    jobs.shutdown()
    RUNS.clear()


def _publish_to(url: str) -> None:
    """Point the Celery app's producers at url (the test settings' broker is shared DB 15)."""
    celery_app.conf.broker_url = url
    # The app caches its pools, built from the broker URL; drop them so the next publish asks
    # kombu's registry (one pool per URL, kept open) for the new URL's.
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@pytest.fixture
def broker(settings: Settings) -> Iterator[redis.Redis]:
    """The production shape on an empty Redis DB of its own; a client on that DB."""
    settings.JOBS_IN_PROCESS = False
    # Reads outlast the 30 s BLPOPs below (redis-py's default 5 s would time out first).
    client = redis.Redis.from_url(BROKER_URL, decode_responses=True, socket_timeout=60)
    client.flushdb()
    original = celery_app.conf.broker_url
    _publish_to(BROKER_URL)
    yield client
    _publish_to(original)
    client.flushdb()
    client.close()


def queued(client: redis.Redis, queue: str) -> list[tuple[str, list[Any]]]:
    """(task name, args) of each message in the queue: kombu keeps a Redis list per queue."""
    messages = [json.loads(raw) for raw in client.lrange(queue, 0, -1)]
    return [(m["headers"]["task"], json.loads(base64.b64decode(m["body"]))[0]) for m in messages]


def all_queued(client: redis.Redis) -> dict[str, list[tuple[str, list[Any]]]]:
    return {queue: queued(client, queue) for queue in jobs.QUEUES}


NOTHING_QUEUED: dict[str, list[tuple[str, list[Any]]]] = {queue: [] for queue in jobs.QUEUES}


# --- Routing -------------------------------------------------------------------------------------


def test_the_queue_names_are_the_ones_ops_are_promised() -> None:
    assert (jobs.ASR, jobs.LLM, jobs.DEFAULT) == jobs.QUEUES == ("asr", "llm", "celery")
    assert django_settings.CELERY_TASK_DEFAULT_QUEUE == jobs.DEFAULT
    assert set(jobs.IN_PROCESS_THREADS) == set(jobs.QUEUES)


@pytest.mark.parametrize(
    ("name", "queue"),
    [
        ("asr.transcribe_audio", "asr"),
        ("asr.tests.record", "asr"),
        ("llm.write_notes", "llm"),
        ("llm.tests.record", "llm"),
        ("assistant.purge_webhook_deliveries", "celery"),
        ("assistant.sweep_orphaned_streams", "celery"),
        ("assistant.transcribe_audio", "celery"),
        ("asrx.lookalike", "celery"),
        ("tests.jobs.unrouted", "celery"),
    ],
)
def test_a_task_name_routes_to_its_queue(name: str, queue: str) -> None:
    assert jobs.queue_for(name) == queue


def test_no_task_picks_its_own_queue() -> None:
    celery_app.loader.import_default_modules()
    assert [name for name, task in celery_app.tasks.items() if getattr(task, "queue", None)] == []


@pytest.fixture
def routes_to_nowhere() -> Iterator[None]:
    """A route to a queue no worker consumes."""
    original = celery_app.conf.task_routes
    celery_app.conf.update(task_routes={"tests.jobs.nap": {"queue": "nowhere"}})
    yield
    celery_app.conf.update(task_routes=original)


@pytest.mark.parametrize("shape", ["in_process", "broker"])
def test_a_task_routed_to_a_queue_nobody_consumes_is_refused(
    shape: str, routes_to_nowhere: None, request: pytest.FixtureRequest
) -> None:
    request.getfixturevalue(shape)
    assert jobs.queue_for("tests.jobs.nap") == "nowhere"
    with pytest.raises(ValueError, match="nowhere"):
        jobs.submit(nap.name, 0)


# --- Jobs are submitted by name ------------------------------------------------------------


def test_the_app_registers_its_tasks_under_the_names_it_promised() -> None:
    # Other tools send these names (beat, an ingest of another version, ops by hand).
    celery_app.loader.import_default_modules()
    ours = [
        name
        for name, task in celery_app.tasks.items()
        if task.__module__.split(".")[0] in ("assistant", "rtms_ingest")
    ]
    assert sorted(ours) == [
        "asr.read_slide",
        "asr.transcribe_utterance",
        "assistant.deliver_notes",
        "assistant.purge_expired_meetings",
        "assistant.purge_webhook_deliveries",
        "assistant.report_deauthorization",
        "assistant.sweep_orphaned_streams",
        "llm.final_notes",
        "llm.update_notes",
    ]


def test_every_job_the_app_submits_has_its_task_on_its_queue() -> None:
    jobs.check_app_jobs()
    assert {name: jobs.queue_for(name) for name in jobs.SUBMITTED_BY_THE_APP} == {
        "asr.transcribe_utterance": "asr",
        "llm.update_notes": "llm",
        "llm.final_notes": "llm",
        "assistant.report_deauthorization": "celery",
        "assistant.deliver_notes": "celery",
        "asr.read_slide": "asr",
    }


def test_a_job_name_no_task_has_fails_the_check_the_web_process_runs_at_start(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    typo = (*jobs.SUBMITTED_BY_THE_APP, "llm.update_note")
    monkeypatch.setattr(jobs, "SUBMITTED_BY_THE_APP", typo)
    with pytest.raises(jobs.UnknownJob, match=r"'llm\.update_note'"):
        jobs.check_app_jobs()


@pytest.mark.parametrize("shape", ["in_process", "broker"])
def test_a_job_submitted_under_a_name_no_task_has_is_refused_in_the_caller(
    shape: str, request: pytest.FixtureRequest
) -> None:
    request.getfixturevalue(shape)
    # At the call, not at the commit (where the caller could no longer handle it).
    with transaction.atomic(), pytest.raises(jobs.UnknownJob, match=r"'llm\.update_note'"):
        jobs.submit("llm.update_note", 1)
    if shape == "broker":
        assert all_queued(request.getfixturevalue("broker")) == NOTHING_QUEUED
    else:
        jobs.shutdown()
        assert RUNS == []


@pytest.mark.timeout(60)
def test_threads_submitting_at_once_in_a_fresh_process_all_find_their_task() -> None:
    # The first submissions of an ingest come from several database threads at once, before
    # any task module is imported: each must find its task, none be told it is unknown.
    code = (
        "import django, json, threading\n"
        "django.setup()\n"
        "from assistant import jobs\n"
        "barrier = threading.Barrier(8)\n"
        "found = []\n"
        "def look(name):\n"
        "    barrier.wait()\n"
        "    try:\n"
        "        found.append(jobs.task_named(name).name)\n"
        "    except jobs.UnknownJob as exc:\n"
        "        found.append(str(exc))\n"
        "names = [jobs.SUBMITTED_BY_THE_APP[i % 4] for i in range(8)]\n"
        "threads = [threading.Thread(target=look, args=(n,)) for n in names]\n"
        "for t in threads: t.start()\n"
        "for t in threads: t.join()\n"
        "print(json.dumps({'found': sorted(found), 'wanted': sorted(names)}))\n"
    )
    env = os.environ | {"DJANGO_SETTINGS_MODULE": "assistant.test_settings"}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr[-3000:]
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["found"] == seen["wanted"]


def test_arguments_that_are_not_json_are_refused_in_the_caller(in_process: list[Run]) -> None:
    delivery = WebhookDelivery.objects.create(dedupe_key="k", event="e", payload={})
    with pytest.raises(TypeError, match="WebhookDelivery"):
        jobs.submit(read_delivery.name, delivery)  # type: ignore[arg-type]


# --- Production shape: the broker ------------------------------------------------------------


def test_a_job_of_a_rolled_back_transaction_never_reaches_the_broker(
    broker: redis.Redis,
) -> None:
    with transaction.atomic():
        for task in RECORDERS:
            jobs.submit(task.name, "rolled back")
        transaction.set_rollback(True)
    with transaction.atomic():
        with transaction.atomic():
            jobs.submit(asr_record.name, "rolled back savepoint")
            transaction.set_rollback(True)
        jobs.submit(llm_record.name, "committed")
    assert all_queued(broker) == NOTHING_QUEUED | {"llm": [("llm.tests.record", ["committed"])]}


def test_a_committed_job_reaches_the_broker_on_its_queue_after_the_commit(
    broker: redis.Redis,
) -> None:
    with transaction.atomic():
        jobs.submit(asr_record.name, "speech")
        jobs.submit(llm_record.name, "notes")
        jobs.submit(record.name, "chores")
        assert all_queued(broker) == NOTHING_QUEUED, "published before the commit"
    assert all_queued(broker) == {
        "asr": [("asr.tests.record", ["speech"])],
        "llm": [("llm.tests.record", ["notes"])],
        "celery": [("tests.jobs.record", ["chores"])],
    }


def test_a_job_outside_a_transaction_reaches_the_broker_at_once(broker: redis.Redis) -> None:
    jobs.submit(record.name, "now")
    assert queued(broker, "celery") == [("tests.jobs.record", ["now"])]


def test_a_job_submitted_behind_others_is_taken_after_the_queues_later_jobs(
    broker: redis.Redis,
) -> None:
    jobs.submit_behind_others(asr_record.name, "draft")
    jobs.submit(asr_record.name, "final")
    with celery_app.connection_for_read() as connection:
        channel = connection.default_channel
        taken = [channel.basic_get("asr", no_ack=True) for _ in range(3)]
    assert [m.decode()[0] if m else None for m in taken] == [["final"], ["draft"], None]


@pytest.fixture
def unreachable_broker(settings: Settings) -> Iterator[None]:
    """The production shape with Redis down: nothing listens on the broker's port."""
    settings.JOBS_IN_PROCESS = False
    original = celery_app.conf.broker_url
    _publish_to("redis://127.0.0.1:1/0")
    yield
    _publish_to(original)


def test_a_job_the_broker_cannot_take_is_reported_to_the_caller(unreachable_broker: None) -> None:
    started = time.monotonic()
    with pytest.raises(jobs.JobNotQueued, match=r"tests\.jobs\.record"):
        jobs.submit(record.name, "while Redis restarts")
    assert time.monotonic() - started < 5, "the caller waited on a broker that is down"


@pytest.mark.timeout(60)
def test_one_worker_on_every_queue_runs_the_committed_jobs_only(
    broker: redis.Redis, tmp_path: Path
) -> None:
    with transaction.atomic():
        for task in RECORDERS:
            jobs.submit(task.name, "rolled back")
        transaction.set_rollback(True)
    with transaction.atomic():
        for task in RECORDERS:
            jobs.submit(task.name, "committed")
    db = django_settings.DATABASES["default"]
    database_url = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    log_path = tmp_path / "worker.log"
    celery = Path(sys.executable).parent / "celery"
    # One process for all three queues, as a small deployment may run it; concurrency 1 keeps
    # each queue in order, so a published rolled-back job would be among the first three.
    argv = [str(celery), "-A", "assistant", "worker", "-Q", "asr,llm,celery", "--concurrency", "1"]
    argv += ["--without-mingle", "--without-gossip", "--loglevel", "INFO"]
    argv += ["--include", "tests.assistant.job_tasks"]
    with log_path.open("wb") as log:
        worker = subprocess.Popen(
            argv, cwd=ROOT, env=stack_env(database_url, BROKER_URL), stdout=log, stderr=log
        )
    try:
        ran = []
        for _ in RECORDERS:
            popped = broker.blpop([RAN_KEY], timeout=30)
            assert popped is not None, log_path.read_text()[-3000:]
            ran.append(str(popped[1]))
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    assert sorted(ran) == [
        "asr asr.tests.record committed",
        "celery tests.jobs.record committed",
        "llm llm.tests.record committed",
    ]
    assert all_queued(broker) == NOTHING_QUEUED


# --- Embedded shape: the in-process pools ----------------------------------------------------


def test_a_job_of_a_rolled_back_transaction_never_runs(in_process: list[Run]) -> None:
    with transaction.atomic():
        delivery = WebhookDelivery.objects.create(dedupe_key="k", event="rolled", payload={})
        jobs.submit(read_delivery.name, delivery.pk)
        jobs.submit(asr_nap.name, 0)
        transaction.set_rollback(True)
    jobs.shutdown()
    assert in_process == []


def test_a_committed_job_runs_after_the_commit_on_a_pool_thread(in_process: list[Run]) -> None:
    with transaction.atomic():
        delivery = WebhookDelivery.objects.create(dedupe_key="k", event="committed", payload={})
        jobs.submit(read_delivery.name, delivery.pk)
        time.sleep(0.2)  # time enough for a pool thread to run a job handed over too early
        assert in_process == [], "ran before the commit"
    jobs.shutdown()
    [run] = in_process
    assert run.seen_event == "committed"
    assert run.thread_id != threading.get_ident()
    assert run.thread.startswith("job-celery")
    assert run.connection is not None
    assert run.connection.connection is None, "the pool thread kept its database connection"


async def test_the_event_loop_keeps_answering_while_a_job_runs(in_process: list[Run]) -> None:
    submitted_at = time.monotonic()
    jobs.submit(asr_nap.name, 0.5)
    submit_s = time.monotonic() - submitted_at
    ticks = 0
    deadline = submitted_at + 5
    while not in_process and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
        ticks += 1
    [run] = in_process
    assert submit_s < 0.05, "submit waited for the job"
    assert run.thread_id != threading.get_ident()
    assert run.finished - submitted_at >= 0.5
    # 0.5 s of 10 ms ticks is 50 at most; a blocked loop would manage one or two.
    assert ticks >= 25, ticks


def test_each_queue_has_its_own_pool(in_process: list[Run]) -> None:
    for task in (asr_nap, llm_nap, nap):
        jobs.submit(task.name, 0)
    jobs.shutdown()
    assert {run.task: run.thread.split("_")[0] for run in in_process} == {
        "asr_nap": "job-asr",
        "llm_nap": "job-llm",
        "nap": "job-celery",
    }


def test_asr_jobs_run_one_at_a_time_and_default_jobs_two(in_process: list[Run]) -> None:
    for task in (asr_nap, asr_nap, nap, nap):
        jobs.submit(task.name, 0.2)
    jobs.shutdown()
    first_asr, second_asr = sorted((r for r in in_process if r.task == "asr_nap"), key=_start)
    first_nap, second_nap = sorted((r for r in in_process if r.task == "nap"), key=_start)
    assert second_asr.started >= first_asr.finished
    assert second_nap.started < first_nap.finished


def _start(run: Run) -> float:
    return run.started


def test_a_failing_job_is_logged_and_its_pool_runs_the_next(
    in_process: list[Run], caplog: pytest.LogCaptureFixture
) -> None:
    jobs.submit(asr_boom.name)
    jobs.submit(asr_nap.name, 0)
    jobs.shutdown()
    [failure] = [r for r in caplog.records if r.levelname == "ERROR"]
    assert "asr.tests.boom" in failure.getMessage()
    assert "boom" in str(failure.exc_info and failure.exc_info[1])
    [run] = in_process
    assert run.task == "asr_nap"
    assert run.thread.startswith("job-asr")
