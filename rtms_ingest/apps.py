"""The RTMS ingest app: webhook receiver, RTMS clients, simulator."""

from django.apps import AppConfig


class RtmsIngestConfig(AppConfig):
    """Nothing starts here (run_ingest, run_demo or the first hand-over starts the ingest); a
    meeting deleted while its stream is open gets that stream stopped."""

    name = "rtms_ingest"

    def ready(self) -> None:
        from assistant.services.meeting_deletion import open_meeting_deleted
        from rtms_ingest.runtime.deleted_streams import stop_deleted_stream

        open_meeting_deleted.connect(stop_deleted_stream, dispatch_uid="rtms-stop-deleted-stream")
