"""GET /meetings/<id>/pictures/<name>: a slide or camera thumbnail, to those who may see it.

The same rule as the meeting's page and API (services/access.py: a signed-in user who may see
the meeting, or a panel grant for it); anyone else gets 404, as for a meeting that does not
exist. Pictures are private: `Cache-Control: private` keeps shared proxies from storing them.
"""

from __future__ import annotations

from django.http import FileResponse, Http404, HttpRequest, HttpResponseBase
from django.views.decorators.http import require_GET

from assistant import pictures
from assistant.services import access

MAX_AGE_S = 3600  # a picture never changes under its name (a camera's URL carries ?v=)


@require_GET
def meeting_picture(request: HttpRequest, meeting_id: int, name: str) -> HttpResponseBase:
    """Serve one picture file of a meeting the viewer may see."""
    viewer = access.Viewer.from_request(request)
    if not viewer.is_known or not access.visible_meetings(viewer).filter(pk=meeting_id).exists():
        raise Http404("No such picture.")
    path = pictures.path_of(meeting_id, name)
    if path is None:
        raise Http404("No such picture.")
    response = FileResponse(
        path.open("rb"), content_type=pictures.CONTENT_TYPES.get(path.suffix, "image/jpeg")
    )
    response["Cache-Control"] = f"private, max-age={MAX_AGE_S}"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Disposition"] = f'inline; filename="{path.name}"'
    return response
