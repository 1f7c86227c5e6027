"""The RTMS ingest app: webhook receiver, RTMS clients, simulator."""

from django.apps import AppConfig


class RtmsIngestConfig(AppConfig):
    """Nothing to set up at start: run_ingest, run_demo or the first in-process hand-over starts it."""

    name = "rtms_ingest"
