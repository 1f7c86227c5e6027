"""What a host's choice for a meeting (PUT notes-track, notes-template, language, slides) checks
first, and how its body is read.

A signed-in user (else 401), a meeting they may see (else 404, as if it did not exist) that they
host or, as staff, may change (else 403), PUT only (else 405). Django checks CSRF on the PUT.
The body is exactly one JSON field, `{"<name>": <value>}` (`chosen_value`).
"""

from __future__ import annotations

import json

from django.http import HttpRequest, HttpResponse

from assistant.models import Meeting
from assistant.services import access
from assistant.views.api import error


def hosted_meeting(request: HttpRequest, meeting_id: int, what: str) -> Meeting | HttpResponse:
    """The meeting the host may choose `what` for, or the error response that says why not."""
    if request.method != "PUT":
        response = error("Only PUT is allowed.", 405)
        response["Allow"] = "PUT"
        return response
    if not request.user.is_authenticated:
        return error("Authentication required: sign in first.", 401)
    viewer = access.Viewer.from_request(request)
    meeting = access.visible_meetings(viewer).filter(pk=meeting_id).first()
    if meeting is None:
        return error("No such meeting.", 404)
    if not access.is_host_of(request.user, meeting):
        return error(f"Only the meeting's host may choose its {what}.", 403)
    return meeting


MAX_BODY_BYTES = 1024
NOT_GIVEN = object()  # what chosen_value returns for a body that is not {"<name>": <value>}


def chosen_value(request: HttpRequest, name: str) -> object:
    """The value of a body that is exactly `{"<name>": <value>}` (small JSON), else NOT_GIVEN."""
    if len(request.body) > MAX_BODY_BYTES:
        return NOT_GIVEN
    try:
        body = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        return NOT_GIVEN
    if not isinstance(body, dict) or set(body) != {name}:
        return NOT_GIVEN
    return body[name]
