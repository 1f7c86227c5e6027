"""Start, pause, resume and stop a meeting's RTMS stream through Zoom's REST API, as its host.

`PATCH {ZOOM_API_BASE_URL}/live_meetings/{meetingId}/rtms_app/status` with the host's access
token (reference docs §8). On 401 the token is refreshed once and the call made once more
(zoom_grants.py); every other answer becomes a sentence the host can act on. The stream itself
then comes as usual: Zoom posts rtms_started (or stops it with MANUAL_API_TRIGGERED, 25) and
the dashboard's live events show the change. Runs in a request thread: the HTTP call blocks
that thread only (never an event loop).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.contrib.auth.models import User

from assistant.services import zoom_grants
from assistant.zoomapp import client
from assistant.zoomapp.client import ZoomError

log = logging.getLogger(__name__)

ACTIONS = ("start", "pause", "resume", "stop")
# Zoom's number for "RTMS already runs for this meeting" (reference §7): a start that is done.
ALREADY_RUNNING = 10308

DONE = {
    "start": "Zoom is starting the stream: the meeting shows up live here in a few seconds.",
    "pause": "Paused: nothing is captured until you resume.",
    "resume": "Resumed: captions and notes go on.",
    "stop": "Stopped: the stream has ended and the notes are being finished.",
}


@dataclass(frozen=True)
class ControlResult:
    """What happened, in words for the host; `sign_in` when they must connect Zoom again."""

    ok: bool
    message: str
    sign_in: bool = False


def control(user: User, meeting_id: str, action: str) -> ControlResult:
    """Ask Zoom to `action` our app's RTMS stream of the meeting `meeting_id` (number or UUID)."""
    if action not in ACTIONS:
        raise ValueError(f"action must be one of {ACTIONS}")
    try:
        _call_as(user, meeting_id, action)
    except zoom_grants.SignInNeeded as exc:
        return ControlResult(False, _sign_in_message(exc), sign_in=True)
    except ZoomError as exc:
        log.info("rtms %s for user %s refused: %s", action, user.pk, exc)
        if action == "start" and exc.code == ALREADY_RUNNING:
            return ControlResult(True, "The stream was already running for this meeting.")
        return ControlResult(False, explain(exc, action))
    log.info("rtms %s accepted by zoom for user %s", action, user.pk)
    return ControlResult(True, DONE[action])


def _call_as(user: User, meeting_id: str, action: str) -> None:
    token = zoom_grants.access_token(user)
    try:
        client.set_rtms_app_status(token, meeting_id, action)
        return
    except ZoomError as exc:
        if exc.status != 401:
            raise
    token = zoom_grants.refreshed_access_token(user, token)
    try:
        client.set_rtms_app_status(token, meeting_id, action)
    except ZoomError as exc:
        if exc.status == 401:  # a fresh token refused too: the app was removed
            zoom_grants.mark_needs_sign_in(user)
            raise zoom_grants.SignInNeeded("Zoom refused your sign-in.", had_grant=True) from None
        raise


def _sign_in_message(exc: zoom_grants.SignInNeeded) -> str:
    if exc.had_grant:
        return (
            "Zoom no longer accepts your sign-in (it was revoked or has expired). "
            "Connect Zoom again to control the stream."
        )
    return "Controlling the stream needs your Zoom sign-in: connect Zoom first."


def explain(error: ZoomError, action: str) -> str:
    """Zoom's refusal in a sentence for the host."""
    status = error.status
    if status == 404:
        return (
            "Zoom has no meeting in progress with that ID. Check the ID, or start the "
            "meeting in Zoom first."
        )
    if status == 409 or (status == 400 and action != "start" and error.code is None):
        why = error.reason or "its state does not allow it"
        return f"Zoom could not {action} the stream now: {why}."
    if status == 403:
        return "Zoom says only the meeting's host may control its stream."
    if status == 400:
        return f"Zoom refused the request: {error.reason or 'no reason given'}."
    if status == 429:
        return "Zoom is limiting requests right now: wait a minute and try again."
    if status >= 500:
        return f"Zoom is having trouble (HTTP {status}): try again in a moment."
    if status == 0:
        return "Zoom did not answer in time: try again in a moment."
    return f"Zoom refused the request (HTTP {status})."
