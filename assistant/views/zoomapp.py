"""The Zoom App panel: the Home URL, the page's own context hand-in, and the panel itself.

Only a decrypted, checked, unused `x-zoom-app-context` opens a panel session; the Home URL's
query string is never read. The panel shows the meeting its context names as the dashboard's
meeting page does (live over the socket, then the stored transcript, participants, chat and
notes once it has finished), with the dashboard's own scripts; hosts also get the RTMS controls
and, signed in as the meeting's host, the choice of transcript.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_GET, require_POST

from assistant import languages
from assistant.middleware import framed_by
from assistant.models import Meeting
from assistant.services import access, meeting_language, panel, stream_refusals, transcripts_query
from assistant.services.meetings import failure_detail
from assistant.services.notes import shapes as notes_shapes
from assistant.views import presenters
from assistant.views.finished_panes import finished_panes
from assistant.zoomapp.context import ContextError

log = logging.getLogger(__name__)

CONTEXT_HEADER = "HTTP_X_ZOOM_APP_CONTEXT"
MAX_BODY_BYTES = 8 * 1024


def _panel_frame_ancestors() -> list[str]:
    """The panel renders in Zoom's client: framed by ourselves and by ZOOMAPP_FRAME_ANCESTORS."""
    return ["'self'", *settings.ZOOMAPP_FRAME_ANCESTORS]


def _refused(request: HttpRequest, reason: str) -> HttpResponse:
    # The reason is ours (ContextError never echoes the token); the token is never logged.
    log.info("zoomapp: context refused (%s)", reason)
    return render(request, "zoomapp/refused.html", status=403)


@framed_by(_panel_frame_ancestors)
@never_cache
@require_GET
@ensure_csrf_cookie
def home(request: HttpRequest) -> HttpResponse:
    """GET /zoomapp/home: the Zoom client's first request, with the context in a header.

    Without the header (Zoom's web client sends none) the page asks the SDK for the context
    and posts it to `zoomapp-context`.
    """
    token = request.META.get(CONTEXT_HEADER, "")
    if not token:
        return render(request, "zoomapp/open.html")
    try:
        context = panel.open_context(token)
    except ContextError as exc:
        return _refused(request, str(exc))
    if not context.meeting_uuid:
        return render(request, "zoomapp/outside_meeting.html")
    panel.bind(request.session, context)
    return redirect("zoomapp-panel")


@never_cache
@require_POST
def hand_in_context(request: HttpRequest) -> HttpResponse:
    """POST /zoomapp/context {"context": ...}: getAppContext()'s token, accepted like the header.

    CSRF-checked like every POST: the page that posts it was served by us.
    """
    if len(request.body) > MAX_BODY_BYTES:
        return JsonResponse({"error": "Context too large."}, status=413)
    try:
        token = json.loads(request.body).get("context")
    except (ValueError, AttributeError, UnicodeDecodeError):
        token = None
    if not isinstance(token, str) or not token:
        return JsonResponse({"error": 'Send {"context": "<getAppContext().context>"}.'}, status=400)
    try:
        context = panel.open_context(token)
    except ContextError as exc:
        log.info("zoomapp: posted context refused (%s)", exc)
        return JsonResponse({"error": "This app context was not accepted."}, status=403)
    if not context.meeting_uuid:
        return JsonResponse({"error": "Open the app in a meeting."}, status=409)
    panel.bind(request.session, context)
    return JsonResponse({"panel": reverse("zoomapp-panel")})


def _panel_meeting(viewer: access.Viewer) -> Meeting | None:
    """The newest stream of the panel's meeting that the viewer may see."""
    if viewer.panel is None:
        return None
    return (
        access.visible_meetings(viewer)
        .filter(zoom_id=viewer.panel.meeting_uuid)
        .order_by("-created_at")
        .first()
    )


@framed_by(_panel_frame_ancestors)
@never_cache
@require_GET
@ensure_csrf_cookie
def panel_page(request: HttpRequest) -> HttpResponse:
    """GET /zoomapp/panel: the captions, participants, chat and notes of the session's meeting."""
    viewer = access.Viewer.from_request(request)
    if viewer.panel is None:
        return render(request, "zoomapp/refused.html", status=403)
    meeting = _panel_meeting(viewer)
    context: dict[str, Any] = {"grant": viewer.panel, "meeting": meeting}
    if meeting is not None:
        context.update(_meeting_context(meeting, viewer))
        if not meeting.is_live:
            # As the finished meeting page shows it; `part` and `at` as there (jumps, parts).
            context.update(finished_panes(meeting, request.GET.get("part"), request.GET.get("at")))
            context["caption_count"] = presenters.caption_count(
                context.get("captions", ()), context["tracks"]
            )
    return render(request, "zoomapp/panel.html", context)


def _meeting_context(meeting: Meeting, viewer: access.Viewer) -> dict[str, Any]:
    sources = set(transcripts_query.sources(meeting.pk))
    return {
        "badge": presenters.badge_class(meeting.state),
        "live": meeting.is_live,
        "stream_text": presenters.stream_text(meeting.state),
        "state_names": presenters.state_names(),
        "failure": failure_detail(meeting),
        "stop_text": presenters.stop_text(meeting),
        "tracks": presenters.caption_tracks(meeting, sources),
        "notes_data": notes_shapes.page_notes(meeting.pk),
        "can_edit_notes": False,
        "can_choose_transcription": meeting.is_live and _hosts_here(viewer, meeting),
        "default_transcription": presenters.transcription_default_label(settings.TRANSCRIPTION),
        "default_record_audio": presenters.recording_default_label(settings.RECORD_AUDIO),
        "reference_language": meeting_language.reference_code(meeting),
        "language_names": languages.names(),
    }


def _hosts_here(viewer: access.Viewer, meeting: Meeting) -> bool:
    """Host in Zoom (the context's role) and, signed in here, a host of the meeting: the
    transcription endpoint checks the second itself; the first keeps a participant's view."""
    return viewer.panel is not None and viewer.panel.is_host and access.is_host_of(viewer, meeting)


# How far the panel's clock may run ahead of ours and a refusal still count (see `since`).
CLOCK_SLACK_S = 60.0


def _since(value: str | None) -> float | None:
    """`since` (unix ms, the panel's clock: when it began to wait), less CLOCK_SLACK_S."""
    if not value or not value.isascii() or not value.isdigit() or len(value) > 15:
        return None
    return int(value) / 1000 - CLOCK_SLACK_S


@never_cache
@require_GET
def panel_meeting(request: HttpRequest) -> HttpResponse:
    """GET /zoomapp/panel/meeting: the panel meeting's id once its stream exists, and why Zoom
    refused to start one if it did since `since` (JSON)."""
    viewer = access.Viewer.from_request(request)
    if viewer.panel is None:
        return JsonResponse({"error": "No panel session."}, status=403)
    meeting = _panel_meeting(viewer)
    # No stream may be coming at all: Zoom refused it (rtms_concurrency_limited).
    refused = stream_refusals.refusal(
        viewer.panel.meeting_uuid,
        meeting.created_at if meeting else None,
        since=_since(request.GET.get("since")),
    )
    return JsonResponse({"meeting": meeting.pk if meeting else None, "refused": refused})
