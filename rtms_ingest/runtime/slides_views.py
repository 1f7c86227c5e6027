"""PUT /api/meetings/<id>/slides/: the host's slides choice, with the ingest told to follow it."""

from __future__ import annotations

from asgiref.sync import async_to_sync
from django.http import HttpRequest, HttpResponse

from assistant.models import Meeting
from assistant.views.slides_choice import choose_slides
from rtms_ingest.cluster.commands import StreamCommand
from rtms_ingest.runtime.handover import hand_over


def meeting_slides(request: HttpRequest, meeting_id: int) -> HttpResponse:
    """Turn slides on or off (assistant/views/slides_choice.py); a live stream reconfigures."""
    return choose_slides(request, meeting_id, _reconfigure)


def _reconfigure(meeting: Meeting) -> None:
    command = StreamCommand("reconfigure", meeting.product, meeting.zoom_id, meeting.rtms_stream_id)
    async_to_sync(hand_over)(command)
