"""The embedded shape's beat: the scheduled tasks it needs, run in this process on their intervals.

Production runs `celery beat` (docker-compose.yml, the Procfile) over `CELERY_BEAT_SCHEDULE`.
The embedded shape (`JOBS_IN_PROCESS`, what `make demo` runs) has no beat, so without this the
retention of meetings and of webhook deliveries would never run there. The web process starts
it (assistant/asgi.py): one daemon thread that hands each entry named in `IN_PROCESS_BEAT` to
the in-process job pools (`jobs.submit`) when it is due, one interval after the start and then
every interval, as celery beat does. The orphan sweep is not among them: it is for several
ingests sharing leases, and the embedded ingest fails its orphans when it starts.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from django.conf import settings

from assistant import jobs

__all__ = ["InProcessBeat", "start_in_process_beat"]

log = logging.getLogger(__name__)

_started: InProcessBeat | None = None
_started_lock = threading.Lock()


class InProcessBeat:
    """When each scheduled task is due next, and a loop that submits them when they are."""

    def __init__(
        self,
        schedule: Mapping[str, Mapping[str, Any]],
        entries: Sequence[str],
        submit: Callable[[str], None],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        unknown = sorted(set(entries) - set(schedule))
        if unknown:
            raise ValueError(f"IN_PROCESS_BEAT names entries not in the schedule: {unknown}")
        self._every = {name: float(schedule[name]["schedule"]) for name in entries}
        self._tasks = {name: str(schedule[name]["task"]) for name in entries}
        self._submit = submit
        self._clock = clock
        start = clock()
        self._next = {name: start + every for name, every in self._every.items()}

    def due(self) -> list[str]:
        """The tasks due now (each once, however late), their next times moved on."""
        now = self._clock()
        names = [name for name, at in self._next.items() if at <= now]
        for name in names:
            self._next[name] = now + self._every[name]
        return [self._tasks[name] for name in names]

    def seconds_to_next(self) -> float:
        return max(0.0, min(self._next.values(), default=3600.0) - self._clock())

    def run(self, stopping: threading.Event) -> None:
        """Submit due tasks until `stopping` is set (a failed submission is logged, not fatal)."""
        while not stopping.wait(self.seconds_to_next()):
            for task in self.due():
                try:
                    self._submit(task)
                except Exception:
                    log.exception("scheduled task %s not submitted", task)


def start_in_process_beat() -> InProcessBeat | None:
    """Start the beat thread once, in a process whose jobs run in process; else None."""
    global _started
    if not settings.JOBS_IN_PROCESS or not settings.IN_PROCESS_BEAT:
        return None
    with _started_lock:
        if _started is None:
            _started = InProcessBeat(
                settings.CELERY_BEAT_SCHEDULE, settings.IN_PROCESS_BEAT, jobs.submit
            )
            thread = threading.Thread(
                target=_started.run, args=(threading.Event(),), name="beat", daemon=True
            )
            thread.start()
            log.info("in-process beat: %s", ", ".join(settings.IN_PROCESS_BEAT))
        return _started
