"""The RTMS ingest app: webhook receiver, RTMS clients, simulator."""

from django.apps import AppConfig


class RtmsIngestConfig(AppConfig):
    """Nothing to set up at start; the supervisor starts from run_ingest or the ASGI app."""

    name = "rtms_ingest"
