"""`manage.py run_ingest`: the long-lived RTMS ingest process of the production shape."""

from __future__ import annotations

import asyncio
import logging
import signal
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from rtms_ingest.runtime.build import build_supervisor
from rtms_ingest.storage.database import close_db_threads

log = logging.getLogger(__name__)


class Command(BaseCommand):
    """Takes stream commands from Redis and holds the RTMS connections until SIGTERM."""

    help = "Run the RTMS ingest: take webhook-started streams from Redis and stream them."

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.REDIS_URL:
            raise CommandError(
                "run_ingest needs REDIS_URL (the webhook receiver hands it streams through "
                "Redis). Without Redis the web process runs the ingest itself."
            )
        if not (settings.ZOOM_CLIENT_ID and settings.ZOOM_CLIENT_SECRET):
            raise CommandError("ZOOM_CLIENT_ID and ZOOM_CLIENT_SECRET must be set.")
        asyncio.run(self._serve())

    async def _serve(self) -> None:
        supervisor = build_supervisor(embedded=False)
        stopping = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stopping.set)
        self.stdout.write(f"RTMS ingest {supervisor.holder_id} waiting for streams")
        try:
            await supervisor.run(stopping)
        finally:
            # The queue's listener, both Redis pools and the kept DB connections close before exit.
            await supervisor.queue.close()
            await supervisor.leases.close()
            await asyncio.to_thread(close_db_threads)
        self.stdout.write("RTMS ingest stopped; every stream was closed")
