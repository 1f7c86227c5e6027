"""The Celery app: configured from Django settings under the CELERY_ namespace."""

from __future__ import annotations

import os
from typing import Any
from wsgiref.simple_server import WSGIServer

from celery import Celery
from celery.signals import worker_process_init, worker_ready

from assistant.job_leases import RenewHeldJobs

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "assistant.settings")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

app = Celery("assistant")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# A worker renews the jobs it holds, so a dead worker's come back within the visibility timeout
# (JOBS_VISIBILITY_TIMEOUT_S) and a live one's never do.
app.steps["consumer"].add(RenewHeldJobs)


def _serve_worker_metrics(index: int) -> WSGIServer | None:
    """Serve this process's figures on WORKER_METRICS_PORT + index, if the port is set."""
    from django.conf import settings

    from assistant import metrics

    if not settings.WORKER_METRICS_PORT:
        return None
    return metrics.serve_metrics(settings.WORKER_METRICS_PORT + index)


@worker_process_init.connect
def metrics_of_pool_child(**_: Any) -> WSGIServer | None:
    """A prefork child runs the tasks, so it serves their figures: child i on the port + i."""
    from billiard.process import current_process

    return _serve_worker_metrics(int(getattr(current_process(), "index", 0)))


@worker_ready.connect
def metrics_of_poolless_worker(sender: Any = None, **_: Any) -> None:
    """With a solo or thread pool the tasks run in the worker process itself: it serves."""
    from celery.concurrency.prefork import TaskPool

    pool_cls = getattr(getattr(sender, "controller", None), "pool_cls", None)
    if not (isinstance(pool_cls, type) and issubclass(pool_cls, TaskPool)):
        _serve_worker_metrics(0)
