"""PUT /api/meetings/<id>/slides/: the host turns a meeting's slides on or off.

{"slides": true | false | null} (null = the SLIDES setting). The host check is the notes
choices' (views/hosts_choice.py). A live stream is told to reconfigure by the caller passed in
(`reconfigure`): the ingest then asks Zoom for share, or stops asking (a short reconnect).
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse

from assistant.models import Meeting
from assistant.services import slides
from assistant.views.api import error
from assistant.views.hosts_choice import chosen_value, hosted_meeting


def choose_slides(
    request: HttpRequest, meeting_id: int, reconfigure: Callable[[Meeting], None]
) -> HttpResponse:
    """Store the host's choice and have a live stream follow it."""
    meeting = hosted_meeting(request, meeting_id, "slides")
    if isinstance(meeting, HttpResponse):
        return meeting
    choice = chosen_value(request, "slides")
    if not (choice is None or isinstance(choice, bool)):
        return error('Send {"slides": true | false | null}.', 400)
    meeting = slides.set_capture_slides(meeting.pk, choice)
    if meeting.is_live:
        reconfigure(meeting)
    return JsonResponse(
        {"slides": meeting.capture_slides, "effective": slides.wants_slides(meeting)}
    )
