"""The RTMS ingest app: webhook receiver, RTMS clients, simulator."""

from django.apps import AppConfig


class RtmsIngestConfig(AppConfig):
    """Nothing to set up at start: run_ingest, run_demo or the first hand-over starts the ingest."""

    name = "rtms_ingest"
