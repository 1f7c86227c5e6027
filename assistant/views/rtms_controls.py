"""The host's RTMS controls on the dashboard: start, pause, resume, stop (plain CSRF-checked forms).

`POST /meetings/<id>/rtms/` {action} acts on a meeting's stream: only its host (or staff) may,
with their Zoom sign-in (services/zoom_grants.py); anyone else who may see the meeting gets 403.
`POST /meetings/rtms/start/` {meeting_id} starts RTMS for a meeting by the ID a host types,
before any stream of it exists here; Zoom decides whether they host it. Each answers with a
redirect back and a message saying what Zoom did, or why not and what to do.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from assistant.models import ConnectionLogEntry, Meeting, Product, ZoomGrant
from assistant.services import access, rtms_control

log = logging.getLogger(__name__)

# A meeting ID as a host types it (spaces and dashes allowed), or a meeting UUID (base64).
_NUMBER = re.compile(r"^[0-9][0-9 -]{7,14}[0-9]$")
_UUID = re.compile(r"^[A-Za-z0-9+/=]{16,64}$")

# Zoom's stop reason when the meeting itself ended (reference §2.7 STOP_REASON).
MEETING_ENDED = 6

ACTION_LABELS = (("start", "Start"), ("pause", "Pause"), ("resume", "Resume"), ("stop", "Stop"))
PHASE_LABELS = {
    "starting": "Starting…",
    "live": "Live",
    "reconnecting": "Reconnecting…",
    "paused": "Paused",
    "stopped": "Stopped",
}

# What a host may do in each phase (the same table is in static/js/rtms-controls.js).
ENABLED = {
    "starting": ("stop",),
    "live": ("pause", "stop"),
    "reconnecting": ("pause", "stop"),
    "paused": ("resume", "stop"),
    "stopped": ("start",),
}


def stream_phase(meeting: Meeting) -> str:
    """starting, live, reconnecting, paused or stopped: the stream as the host controls it."""
    state = meeting.state
    if state in Meeting.FINISHED_STATES:
        return "stopped"
    if state in (Meeting.State.PENDING, Meeting.State.CONNECTING):
        return "starting"
    if state == Meeting.State.RECONNECTING:
        return "reconnecting"
    detail = (
        ConnectionLogEntry.objects.filter(meeting=meeting, kind=ConnectionLogEntry.Kind.STATE)
        .order_by("-pk")
        .values_list("detail", flat=True)
        .first()
    )
    # The ingest logs Zoom's pause and resume as details of the live state ("session paused").
    return "paused" if (detail or "").endswith("paused") else "live"


def grant_state(user: Any) -> str:
    """none, needs_sign_in or ok: the user's Zoom sign-in, as the controls need it ("" when
    this site has no Zoom app configured, so there is nothing to sign in with)."""
    if not settings.ZOOM_CLIENT_ID:
        return ""
    if not isinstance(user, User):
        return "none"
    needs = ZoomGrant.objects.filter(user=user).values_list("needs_sign_in", flat=True).first()
    if needs is None:
        return "none"
    return "needs_sign_in" if needs else "ok"


def controls_context(request: HttpRequest, meeting: Meeting) -> dict[str, Any] | None:
    """What the meeting page's controls show, or None when this viewer gets none."""
    if not settings.ZOOM_CLIENT_ID:
        return None
    if meeting.product != Product.MEETING or not access.is_host_of(request.user, meeting):
        return None
    if meeting.stop_reason == MEETING_ENDED:
        return None  # the Zoom meeting itself is over: there is no stream left to control
    phase = stream_phase(meeting)
    return {
        "phase": phase,
        "label": PHASE_LABELS[phase],
        "enabled": ENABLED[phase],
        "grant": grant_state(request.user),
    }


def _zoom_meeting_id(meeting: Meeting) -> str:
    return str(meeting.meeting_number) if meeting.meeting_number else meeting.zoom_id


@login_required
@require_POST
def meeting_rtms(request: HttpRequest, meeting_id: int) -> HttpResponse:
    """POST /meetings/<id>/rtms/ {action}: the host controls this meeting's stream."""
    meeting = get_object_or_404(
        access.visible_meetings(access.Viewer.from_request(request)), pk=meeting_id
    )
    action = request.POST.get("action", "")
    if action not in rtms_control.ACTIONS:
        return HttpResponse("Unknown action.", status=400, content_type="text/plain")
    if meeting.product != Product.MEETING or not access.is_host_of(request.user, meeting):
        return HttpResponse(
            "Only the meeting's host may control its stream.", status=403, content_type="text/plain"
        )
    assert isinstance(request.user, User)  # login_required, active (is_host_of)
    result = rtms_control.control(request.user, _zoom_meeting_id(meeting), action)
    _tell(request, result)
    # A stopped meeting's new stream is a new meeting: the list shows it when it arrives.
    if action == "start" and not meeting.is_live and result.ok:
        return redirect("meeting-list")
    return redirect("meeting-detail", meeting_id=meeting.pk)


@login_required
@require_POST
def start_by_id(request: HttpRequest) -> HttpResponse:
    """POST /meetings/rtms/start/ {meeting_id}: start RTMS for a meeting by its Zoom ID."""
    typed = request.POST.get("meeting_id", "").strip()
    number = typed.replace(" ", "").replace("-", "")
    if _NUMBER.match(typed) and number.isdigit():
        zoom_id = number
    elif _UUID.match(typed):
        zoom_id = typed
    else:
        messages.error(request, "Type the meeting's ID as Zoom shows it, e.g. 812 3456 7890.")
        return redirect("meeting-list")
    assert isinstance(request.user, User)
    _tell(request, rtms_control.control(request.user, zoom_id, "start"))
    return redirect("meeting-list")


def _tell(request: HttpRequest, result: rtms_control.ControlResult) -> None:
    if result.ok:
        messages.success(request, result.message)
    elif result.sign_in:
        messages.warning(request, result.message)
    else:
        messages.error(request, result.message)
