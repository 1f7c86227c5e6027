"""PUT /api/meetings/<id>/notes-track/: the host chooses which transcript track leads a meeting.

Same rules as the transcript choice beside it on the page: a signed-in user, a meeting they
may see (else 404) and host (or staff; else 403), Django's CSRF check on the PUT.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache

from assistant.models import Track
from assistant.services import track_choice
from assistant.views import presenters
from assistant.views.api import error
from assistant.views.hosts_choice import chosen_value, hosted_meeting

_USAGE = 'Send {"notes_track": "native" | "asr" | ""} ("" = the server\'s NOTES_TRACK).'


@never_cache
def notes_track(request: HttpRequest, meeting_id: int) -> HttpResponse:
    """Set {"notes_track": "native" | "asr" | ""}; the notes are rebuilt if their track changes."""
    meeting = hosted_meeting(request, meeting_id, "notes' track")
    if isinstance(meeting, HttpResponse):
        return meeting
    choice = _choice(request)
    if choice is None:
        return error(_USAGE, 400)
    chosen = track_choice.choose_notes_track(meeting.pk, choice)
    return JsonResponse(
        {
            "notes_track": chosen.meeting.notes_track,
            "primary": chosen.primary,
            "rebuilding": chosen.rebuilding,
            "message": presenters.track_chosen_text(chosen),
        }
    )


def _choice(request: HttpRequest) -> str | None:
    """The body's choice, or None when the body is not exactly {"notes_track": <a choice>}."""
    choice = chosen_value(request, "notes_track")
    return choice if isinstance(choice, str) and choice in ("", *Track.values) else None
