"""`/shared/<token>/`: a finished meeting's notes and transcript, for someone without an account.

Read-only and static: the notes and one transcript part rendered by the server, no script at
all (so no live socket, no asking, no editing, no exports), the transcript's parts and a
note's "Jump to moment" as plain links (`?part=`, `?at=`). Only the meeting's title, date and
length, and the display name of whoever shared it: never who else may see it, nor any account
detail. An unknown token is 404; an expired or revoked link 410, each with a page that says
so. Every answer, whatever its status, is kept out of caches, search engines and Referer
headers (the token is in the URL). Openings are rate limited per client address
(SHARE_OPEN_RATE_LIMIT, unknown tokens included: 429 with Retry-After) and logged by the
service with the link's id.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from assistant.client_address import client_address
from assistant.models import Meeting
from assistant.services import meeting_language, rate_limits, share_links, transcripts_query
from assistant.services.notes import shapes as notes_shapes
from assistant.services.share_links import LinkState
from assistant.views import presenters, transcript_parts

# The token is in the URL: no Referer carries it away, no cache or index keeps the page.
PRIVATE_HEADERS = {
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow",
    "Cache-Control": "private, no-store",
}
_UNAVAILABLE = "shares/unavailable.html"


@require_safe
def shared_meeting(request: HttpRequest, token: str) -> HttpResponse:
    """The shared meeting; 404, 410 or 429 pages when it cannot be shown."""
    address = client_address(request)
    wait_s = rate_limits.take("share-open", address or "unknown", settings.SHARE_OPEN_RATE_LIMIT)
    if wait_s is not None:
        response = _page(request, _UNAVAILABLE, {"reason": "busy", "wait_s": wait_s}, 429)
        response["Retry-After"] = str(wait_s)
        return response
    found = share_links.resolve(token)
    if found.link is None:
        return _page(request, _UNAVAILABLE, {"reason": LinkState.UNKNOWN}, 404)
    if found.state is not LinkState.OPEN:
        return _page(request, _UNAVAILABLE, {"reason": found.state}, 410)
    link = found.link
    share_links.record_opening(link.pk, address, request.META.get("HTTP_USER_AGENT", ""))
    context = shared_context(link.meeting, request.GET.get("part"), request.GET.get("at"))
    creator = link.created_by
    context["shared_by"] = creator.get_full_name() if creator else ""
    context["expires_at"] = link.expires_at
    return _page(request, "shares/shared_meeting.html", context, 200)


def shared_context(meeting: Meeting, part: str | None, at: str | None) -> dict[str, Any]:
    """The page's notes and transcript part (its caption track only), as the meeting page
    shows them (the same presenters), and nothing else of the meeting."""
    origin = presenters.clock_origin(transcripts_query.first_segment_start(meeting.pk))
    parts = transcript_parts.parts(meeting.pk, origin, part, at)
    window = transcripts_query.transcript_window(meeting.pk, parts.start_ms, parts.end_ms)
    sources = set(transcripts_query.sources(meeting.pk))
    tracks = presenters.caption_tracks(meeting, sources)
    captions = presenters.caption_rows(
        list(window), origin, meeting_language.reference_code(meeting)
    )
    return {
        "meeting": meeting,
        "duration": presenters.duration_label(meeting),
        "notes": notes_shapes.page_notes(meeting.pk),
        "captions": [c for c in captions if c.source == tracks.shown],
        "parts": parts,
    }


def _page(
    request: HttpRequest, template: str, context: dict[str, Any], status: int
) -> HttpResponse:
    response = render(request, template, context, status=status)
    for header, value in PRIVATE_HEADERS.items():
        response[header] = value
    return response
