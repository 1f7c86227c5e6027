"""The JSON API: the same session and the same access rule as the pages, answers always JSON."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.views.decorators.cache import never_cache

from assistant.models import Meeting
from assistant.services import access, transcripts_query
from assistant.views import presenters

MEETINGS_PAGE_SIZE = 50
SEGMENTS_DEFAULT_LIMIT = 200
SEGMENTS_MAX_LIMIT = 1000
_MAX_INT = 2**62

View = Callable[..., HttpResponse]


class BadParameter(ValueError):
    """A query parameter the API cannot use; its message is shown to the caller."""


def error(message: str, status: int) -> JsonResponse:
    """An API error body."""
    return JsonResponse({"error": message}, status=status)


def api_view(view: View) -> View:
    """GET only, signed-in (or a panel session) only, bad parameters answered 400; never cached."""

    @never_cache
    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method != "GET":
            response = error("Only GET is allowed.", 405)
            response["Allow"] = "GET"
            return response
        if not access.Viewer.from_request(request).is_known:
            return error("Authentication required: sign in first.", 401)
        try:
            return view(request, *args, **kwargs)
        except BadParameter as exc:
            return error(str(exc), 400)

    return wrapper


def int_param(
    request: HttpRequest, name: str, *, default: int | None, minimum: int, maximum: int = _MAX_INT
) -> int | None:
    """An integer query parameter within [minimum, maximum], or the default when absent."""
    raw = request.GET.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadParameter(f"{name} must be an integer.") from None
    if not minimum <= value <= maximum:
        raise BadParameter(f"{name} must be between {minimum} and {maximum}.")
    return value


@api_view
def meeting_list(request: HttpRequest) -> HttpResponse:
    """GET /api/meetings/?state=&cursor=: the user's meetings, newest first, 50 a page."""
    state = request.GET.get("state") or None
    if state is not None and state not in Meeting.State.values:
        raise BadParameter(f"state must be one of: {', '.join(Meeting.State.values)}.")
    cursor = int_param(request, "cursor", default=None, minimum=1)
    rows, next_cursor = transcripts_query.api_meetings_page(
        access.visible_meetings(access.Viewer.from_request(request)),
        state=state,
        before_id=cursor,
        size=MEETINGS_PAGE_SIZE,
    )
    next_url = None
    if next_cursor is not None:
        query = {"cursor": next_cursor, **({"state": state} if state else {})}
        next_url = request.build_absolute_uri(f"{reverse('api-meeting-list')}?{urlencode(query)}")
    return JsonResponse({"results": [presenters.meeting_json(m) for m in rows], "next": next_url})


@api_view
def segment_list(request: HttpRequest, meeting_id: int) -> HttpResponse:
    """GET /api/meetings/<id>/segments/?since=&limit=: segments after `since`, in seq order.

    `next_since` is the seq to pass as `since` for the rest, or null when nothing more is stored.
    """
    since = int_param(request, "since", default=0, minimum=0) or 0
    limit = int_param(
        request, "limit", default=SEGMENTS_DEFAULT_LIMIT, minimum=1, maximum=SEGMENTS_MAX_LIMIT
    )
    if not access.can_view_meeting(access.Viewer.from_request(request), meeting_id):
        return error("No such meeting.", 404)
    rows, next_since = transcripts_query.segments_after(
        meeting_id, since=since, limit=limit or SEGMENTS_DEFAULT_LIMIT
    )
    return JsonResponse(
        {"results": [presenters.segment_json(s) for s in rows], "next_since": next_since}
    )
