"""PUT /api/meetings/<id>/notes-template/: the host chooses what a meeting's notes contain.

Same rules as the notes' track beside it (notes_track.py): a signed-in user, a meeting they
may see (else 404) and host (or staff; else 403), Django's CSRF check on the PUT.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache

from assistant.services import template_choice
from assistant.services.notes import meeting_template
from assistant.views import presenters
from assistant.views.api import error
from assistant.views.hosts_choice import chosen_value, hosted_meeting


@never_cache
def notes_template(request: HttpRequest, meeting_id: int) -> HttpResponse:
    """Set {"template": "<key>" | ""}; the notes are rebuilt if their template changes."""
    meeting = hosted_meeting(request, meeting_id, "notes' template")
    if isinstance(meeting, HttpResponse):
        return meeting
    choice = _choice(request)
    if choice is None:
        keys = ", ".join(t.key for t in meeting_template.available())
        return error(f'Send {{"template": key}}, a key of {keys}, or "" (by the topic).', 400)
    chosen = template_choice.choose_notes_template(meeting.pk, choice)
    return JsonResponse(
        {
            "template": chosen.meeting.notes_template,
            "effective": chosen.template.as_json(),
            "rebuilding": chosen.rebuilding,
            "message": presenters.template_chosen_text(chosen),
        }
    )


def _choice(request: HttpRequest) -> str | None:
    """The body's choice, or None unless the body is exactly {"template": <a known key or "">}."""
    choice = chosen_value(request, "template")
    if not isinstance(choice, str):
        return None
    return choice if choice == "" or meeting_template.by_key(choice) else None
