"""Tasks for the job tests that a real Celery worker imports too (`--include`).

Each records, in the Redis the worker runs on, which queue delivered it and with what label.
"""

from __future__ import annotations

import redis
from celery import Task, shared_task
from django.conf import settings

RAN_KEY = "tests:jobs:ran"


def _record(task: Task, label: str) -> None:
    """Push 'queue task label' to RAN_KEY."""
    queue = task.request.delivery_info["routing_key"]
    with redis.Redis.from_url(settings.REDIS_URL) as client:
        client.rpush(RAN_KEY, f"{queue} {task.name} {label}")


@shared_task(name="tests.jobs.record", bind=True)
def record(self: Task, label: str) -> None:
    """Record on the default queue."""
    _record(self, label)


@shared_task(name="asr.tests.record", bind=True)
def asr_record(self: Task, label: str) -> None:
    """Record on the asr queue."""
    _record(self, label)


@shared_task(name="llm.tests.record", bind=True)
def llm_record(self: Task, label: str) -> None:
    """Record on the llm queue."""
    _record(self, label)


RECORDERS = [record, asr_record, llm_record]
