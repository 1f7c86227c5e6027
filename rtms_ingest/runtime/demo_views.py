"""The demo's one page action: staff ask the embedded simulator to play the sample meeting."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

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
