"""`manage.py run_ingest`: the long-lived RTMS ingest process of the production shape."""

from __future__ import annotations

import asyncio
import ctypes
import logging
import os
import signal
import subprocess
import sys
import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from assistant import jobs
from rtms_ingest.runtime.build import build_supervisor
from rtms_ingest.runtime.metrics import serve_metrics
from rtms_ingest.storage.database import close_db_threads

log = logging.getLogger(__name__)

# A worker that dies this soon after its start is not restarted in a tight loop.
RESTART_PAUSE_S = 2.0


class Command(BaseCommand):
    """Takes stream commands from Redis and holds the RTMS connections until SIGTERM."""

    help = "Run the RTMS ingest: take webhook-started streams from Redis and stream them."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--processes",
            type=int,
            default=1,
            help="worker processes on this machine (one per core): each is a full ingest with "
            "its own holder id, sharing the Redis queue and leases with every other ingest",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.REDIS_URL:
            raise CommandError(
                "run_ingest needs REDIS_URL (the webhook receiver hands it streams through "
                "Redis). Without Redis the web process runs the ingest itself."
            )
        if not (settings.ZOOM_CLIENT_ID and settings.ZOOM_CLIENT_SECRET):
            raise CommandError("ZOOM_CLIENT_ID and ZOOM_CLIENT_SECRET must be set.")
        processes = options["processes"]
        if processes < 1:
            raise CommandError("--processes must be at least 1")
        # The ingest submits jobs by name: a name no task answers to fails here, not mid-stream.
        jobs.check_app_jobs()
        if processes > 1:
            self._run_workers(processes)
            return
        asyncio.run(self._serve())

    def _run_workers(self, count: int) -> None:
        """Run `count` single-process ingests; forward SIGTERM; restart one that dies."""
        command = [sys.executable, os.path.abspath(sys.argv[0]), "run_ingest"]
        stopping = False

        def stop(signum: int, _frame: object) -> None:
            nonlocal stopping
            stopping = True
            for worker in workers:
                if worker.poll() is None:
                    worker.send_signal(signal.SIGTERM)

        def start(index: int) -> subprocess.Popen[bytes]:
            # Our own interpreter and manage.py, no shell, no outside input. A worker whose
            # parent is gone (SIGKILL, OOM) stops too: no orphan keeps taking streams.
            return subprocess.Popen(command, env=_worker_env(index), preexec_fn=_die_with_parent)  # noqa: S603

        workers = [start(i) for i in range(count)]
        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        self.stdout.write(f"RTMS ingest: {count} worker processes")
        while True:
            for i, worker in enumerate(workers):
                code = worker.poll()
                if code is None or stopping:
                    continue
                log.error("ingest worker %d exited with %s; restarting it", worker.pid, code)
                time.sleep(RESTART_PAUSE_S)
                if not stopping:  # a SIGTERM during the pause: no new worker to orphan
                    workers[i] = start(i)
            if stopping and all(worker.poll() is not None for worker in workers):
                break
            time.sleep(0.5)
        self.stdout.write("RTMS ingest workers stopped")

    async def _serve(self) -> None:
        supervisor = build_supervisor(embedded=False)
        stopping = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stopping.set)
        if settings.RTMS_METRICS_PORT:
            serve_metrics(
                supervisor,
                settings.RTMS_METRICS_PORT,
                redis_url=settings.REDIS_URL,
                job_queues=jobs.QUEUES,
            )
        self.stdout.write(f"RTMS ingest {supervisor.holder_id} waiting for streams")
        try:
            await supervisor.run(stopping)
        finally:
            # The queue's listener, both Redis pools and the kept DB connections close before exit.
            await supervisor.queue.close()
            await supervisor.leases.close()
            await asyncio.to_thread(close_db_threads)
        self.stdout.write("RTMS ingest stopped; its streams were handed over or closed")


def _die_with_parent() -> None:
    """In a new worker, before it runs: SIGTERM it when its parent dies (Linux; else nothing)."""
    if sys.platform.startswith("linux"):
        pr_set_pdeathsig = 1
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


def _worker_env(index: int) -> dict[str, str]:
    """A worker's environment: its own metrics port (the base port + its index)."""
    env = dict(os.environ)
    if settings.RTMS_METRICS_PORT:
        env["RTMS_METRICS_PORT"] = str(settings.RTMS_METRICS_PORT + index)
    return env
