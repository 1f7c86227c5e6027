"""The demo's page actions: play the sample meeting; see it as its host or a participant in Zoom
sees it."""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from assistant.models import Meeting
from assistant.zoomapp.context import ISSUER, seal_context
from rtms_ingest.runtime import demo


@login_required
@require_POST
def play_sample_meeting(request: HttpRequest) -> HttpResponse:
    """Staff only: ask the embedded simulator to play the bundled sample meeting."""
    if not request.user.is_staff:
        raise PermissionDenied("Only staff can start the sample meeting.")
    if demo.request_sample_playback():
        messages.success(
            request, "The sample meeting is starting. It will appear at the top of this list."
        )
    else:
        # False unless this process runs the demo simulator (settings.DEMO_SIMULATOR, run_demo).
        messages.error(request, "The sample meeting is not available on this server.")
    return redirect("meeting-list")


# Who the preview shows the panel to: Zoom's role (`attendrole`) for each.
PREVIEW_ROLES = {"participant": "participant", "host": "host"}


@never_cache
@login_required
@require_GET
def open_panel(request: HttpRequest) -> HttpResponse:
    """Staff, demo only: open the Zoom App panel of the newest meeting as its host or a
    participant would (`?as=host|participant`; without it, the page offers both).

    The page asks /zoomapp/home with an `x-zoom-app-context` made here exactly as Zoom makes
    one (sealed with the demo's client secret), so it takes the same path as inside Zoom. The
    host's view grants nothing the staff user lacks: the panel's host controls are Zoom's own
    RTMS calls, and its choice of transcript goes through the endpoint's own check of the
    signed-in user (staff may set it anyway).
    """
    if not (settings.DEMO_SIMULATOR and request.user.is_staff):
        raise PermissionDenied("The panel preview is part of the demo only.")
    meeting = Meeting.objects.order_by("-created_at").first()
    if meeting is None:
        messages.error(request, "Play the sample meeting first.")
        return redirect("meeting-list")
    role = PREVIEW_ROLES.get(request.GET.get("as", ""))
    if role is None:
        return render(request, "zoomapp/demo.html", {"meeting": meeting})
    token = seal_context(_context_fields(meeting, role), settings.ZOOM_CLIENT_SECRET)
    return render(request, "zoomapp/demo.html", {"token": token, "meeting": meeting, "role": role})


def _context_fields(meeting: Meeting, role: str) -> dict[str, object]:
    """An in-meeting app context as Zoom issues it to the meeting's host or a participant."""
    now_ms = int(time.time() * 1000)
    is_host = role == "host"
    return {
        "typ": "meeting",
        "uid": (meeting.operator_id or "demo-host") if is_host else "demo-participant",
        "mid": meeting.zoom_id,
        "ts": now_ms,
        "exp": now_ms + 120_000,
        "iss": ISSUER,
        "aud": settings.ZOOM_CLIENT_ID,
        "attendrole": role,
    }
