"""The demo's page actions: play the sample meeting; see it as a participant in Zoom sees it."""

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


@never_cache
@login_required
@require_GET
def open_panel(request: HttpRequest) -> HttpResponse:
    """Staff, demo only: open the Zoom App panel of the newest meeting as a participant would.

    The page asks /zoomapp/home with an `x-zoom-app-context` made here exactly as Zoom makes
    one (sealed with the demo's client secret), so it takes the same path as inside Zoom.
    """
    if not (settings.DEMO_SIMULATOR and request.user.is_staff):
        raise PermissionDenied("The panel preview is part of the demo only.")
    meeting = Meeting.objects.order_by("-created_at").first()
    if meeting is None:
        messages.error(request, "Play the sample meeting first.")
        return redirect("meeting-list")
    now_ms = int(time.time() * 1000)
    context = {
        "typ": "meeting",
        "uid": "demo-participant",
        "mid": meeting.zoom_id,
        "ts": now_ms,
        "exp": now_ms + 120_000,
        "iss": ISSUER,
        "aud": settings.ZOOM_CLIENT_ID,
        "attendrole": "participant",
    }
    token = seal_context(context, settings.ZOOM_CLIENT_SECRET)
    return render(request, "zoomapp/demo.html", {"token": token, "meeting": meeting})
