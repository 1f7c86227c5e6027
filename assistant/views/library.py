"""A meeting's exports (Markdown, WebVTT, SRT, JSON) and its deletion by its host."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from assistant.models import Meeting
from assistant.services import access, exports, meeting_deletion, transcripts_query
from assistant.views import presenters

Render = Callable[[int, int], Iterator[str]]
FORMATS: dict[str, tuple[Render, str]] = {
    "md": (exports.markdown, "text/markdown; charset=utf-8"),
    "vtt": (exports.webvtt, "text/vtt; charset=utf-8"),
    "srt": (exports.srt, "application/x-subrip; charset=utf-8"),
    "json": (exports.json_document, "application/json"),
}


def _visible(request: HttpRequest, meeting_id: int) -> Meeting:
    """The meeting if the user may see it; otherwise 404, as for one that does not exist."""
    return get_object_or_404(
        access.visible_meetings(access.Viewer.from_request(request)), pk=meeting_id
    )


@never_cache
@login_required
@require_GET
def export(request: HttpRequest, meeting_id: int, fmt: str) -> HttpResponse:
    """/meetings/<id>/export.<md|vtt|srt|json>: the meeting as a file, same access as its page."""
    meeting = _visible(request, meeting_id)
    render, content_type = FORMATS[fmt]
    origin = presenters.clock_origin(transcripts_query.first_segment_start(meeting.pk))
    # Joined, not streamed: under ASGI Django would gather a sync stream into a list anyway.
    # The chunks come from an iterator over the rows, so only the text is held, no instances.
    response = HttpResponse("".join(render(meeting.pk, origin)), content_type=content_type)
    # ASCII letters, digits, hyphens and underscores only: safe inside the quotes as is.
    response["Content-Disposition"] = f'attachment; filename="{exports.file_name(meeting, fmt)}"'
    return response


@login_required
@require_POST
def delete(request: HttpRequest, meeting_id: int) -> HttpResponse:
    """Delete a finished meeting: its host (or staff) may, at any time, unless it is on hold."""
    meeting = _visible(request, meeting_id)
    if not access.is_host_of(request.user, meeting):
        return HttpResponseForbidden("Only the meeting's host may delete it.")
    reason = (
        meeting_deletion.Reason.STAFF
        if request.user.is_staff and meeting.owner_id != request.user.pk
        else meeting_deletion.Reason.HOST
    )
    user = request.user if request.user.is_authenticated else None
    try:
        meeting_deletion.delete_meeting(meeting.pk, reason, actor=user)
    except meeting_deletion.DeletionRefused as exc:
        messages.error(request, str(exc))
        return redirect("meeting-detail", meeting_id=meeting.pk)
    messages.success(request, f"Deleted “{meeting}” and everything recorded in it.")
    return redirect("meeting-list")
