"""The product's Celery app, for a worker that stops dead at one point of one task (tests only).

`celery -A tests.integration.paused_worker worker ...` with
PAUSE_AT="<task name>@<module>:<function>:<before|after>" and PAUSE_MARKER=<file>: in each pool
child the function is wrapped so that, inside that task only, it writes the task's id to the
marker file and sleeps until the worker is killed. A test then SIGKILLs the worker exactly
there, mid-job, instead of guessing when a job is running.
"""

from __future__ import annotations

import importlib
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from celery import current_task
from celery.signals import worker_process_init

from assistant.celery import app

__all__ = ["app"]


@worker_process_init.connect
def pause_in_this_child(**kwargs: Any) -> None:
    """Wrap the function PAUSE_AT names (pool children run the tasks)."""
    point = os.environ.get("PAUSE_AT", "")
    if point:
        task_name, _, where = point.partition("@")
        module_name, function_name, when = where.split(":")
        module = importlib.import_module(module_name)
        original = getattr(module, function_name)
        marker = Path(os.environ["PAUSE_MARKER"])
        setattr(module, function_name, _paused(original, task_name, when, marker))


def _paused(original: Callable[..., Any], task_name: str, when: str, marker: Path) -> Any:
    def paused(*args: Any, **kwargs: Any) -> Any:
        here = current_task is not None and current_task.name == task_name
        if here and when == "before":
            _stop_dead(marker)
        result = original(*args, **kwargs)
        if here and when == "after":
            _stop_dead(marker)
        return result

    return paused


def _stop_dead(marker: Path) -> None:
    marker.write_text(str(current_task.request.id))
    while True:  # until the test kills this worker
        time.sleep(60)
