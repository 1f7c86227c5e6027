"""A meeting deleted while its stream is open: the ingest that holds the stream closes it.

Connected to `meeting_deletion.open_meeting_deleted` (rtms_ingest/apps.py): the app announces
the deletion after commit, without knowing the ingest; this queues a stop for the stream on the
same command queue as Zoom's webhooks, so whichever ingest holds it closes it at once.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings

from rtms_ingest.cluster.command_queue import put_blocking
from rtms_ingest.cluster.commands import MEETING_DELETED_EVENT, StreamCommand
from rtms_ingest.protocol import StopReason

__all__ = ["stop_deleted_stream"]

log = logging.getLogger(__name__)


def stop_deleted_stream(
    sender: Any, *, meeting_id: int, product: str, zoom_id: str, rtms_stream_id: str, **_: Any
) -> None:
    """Queue a stop for the deleted meeting's stream (called after the deletion's commit)."""
    command = StreamCommand(
        "stop",
        product,
        zoom_id,
        rtms_stream_id,
        stop_reason=int(StopReason.RECEIVER_REQUEST_CLOSE),
        event=MEETING_DELETED_EVENT,
    )
    if settings.RTMS_INGEST_IN_PROCESS:
        from rtms_ingest.runtime.embedded import queue_from_any_thread

        queued = queue_from_any_thread(command)
    else:
        put_blocking(settings.REDIS_URL, command)
        queued = True
    log.info(
        "meeting %d deleted: stop of its stream %s",
        meeting_id,
        "queued" if queued else "not needed (no ingest runs)",
    )
