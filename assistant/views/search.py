"""Search across meetings: the page /search/?q= and the API /api/search/?q=."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_GET

from assistant.models import Meeting
from assistant.services import access, search, transcripts_query
from assistant.views import presenters
from assistant.views.api import BadParameter, api_view, int_param

PAGE_SIZE = 20
MAX_PAGE = 500


@api_view
def search_api(request: HttpRequest) -> HttpResponse:
    """GET /api/search/?q=&page=: ranked hits in the meetings the user may see.

    `snippet` is HTML: the text escaped, the matching words in <mark>. `source` is `native`
    (Zoom's transcript), `asr` (ours), `chat` or `slide` (text read on a shared slide);
    `primary` marks the meeting's primary track; a hit has one of `segment_id`, `chat_id` and
    `slide_id`, the others null.
    """
    query = request.GET.get("q", "").strip()
    if not query:
        raise BadParameter("q is required.")
    number = int_param(request, "page", default=1, minimum=1, maximum=MAX_PAGE) or 1
    result = search.search(
        access.visible_meetings(access.Viewer.from_request(request)),
        query,
        page=number,
        size=PAGE_SIZE,
    )
    next_url = None
    if result.has_next and number < MAX_PAGE:
        next_query = urlencode({"q": query, "page": number + 1})
        next_url = request.build_absolute_uri(f"{reverse('api-search')}?{next_query}")
    results = [
        {
            "meeting_id": h.meeting_id,
            "segment_id": h.segment_id,
            "chat_id": h.chat_id,
            "slide_id": h.slide_id,
            "source": h.source,
            "primary": h.primary,
            "speaker": h.speaker,
            "start_ms": h.start_ms,
            "snippet": h.snippet,
        }
        for h in result.hits
    ]
    return JsonResponse({"results": results, "next": next_url})


@dataclass(frozen=True)
class HitRow:
    """One search hit as the results page shows it."""

    source: str  # a Track value, "chat" or "slide": the label's look
    label: str  # where the words are from: "Zoom captions", "Our captions", "Chat", "Slide"
    speaker: str
    clock: str
    snippet: SafeString
    url: str


@dataclass(frozen=True)
class MeetingHits:
    """A meeting's hits on the page, best first."""

    meeting: Meeting
    hits: list[HitRow]

    @property
    def when(self) -> dt.datetime:
        """When the meeting started (else was created): two meetings of one name differ."""
        return self.meeting.started_at or self.meeting.created_at


@login_required
@require_GET
def search_page(request: HttpRequest) -> HttpResponse:
    """The search form and one page of ranked hits, each a link to its moment."""
    query = request.GET.get("q", "").strip()
    try:
        number = max(1, min(MAX_PAGE, int(request.GET.get("page") or 1)))
    except ValueError:
        number = 1
    context: dict[str, Any] = {"query": query, "groups": [], "page_number": number}
    if query:
        result = search.search(
            access.visible_meetings(access.Viewer.from_request(request)),
            query,
            page=number,
            size=PAGE_SIZE,
        )
        context["groups"] = _groups(result.hits)
        context["searched"] = True
        if result.has_next:
            context["next_url"] = "?" + urlencode({"q": query, "page": number + 1})
        if number > 1:
            context["previous_url"] = "?" + urlencode({"q": query, "page": number - 1})
    return render(request, "search/results.html", context)


def _groups(hits: list[search.Hit]) -> list[MeetingHits]:
    """The page's hits by meeting, meetings in the order of their best hit."""
    meetings = Meeting.objects.in_bulk({h.meeting_id for h in hits})
    origins = {
        pk: presenters.clock_origin(transcripts_query.first_segment_start(pk)) for pk in meetings
    }
    groups: dict[int, MeetingHits] = {}
    for h in hits:
        group = groups.setdefault(h.meeting_id, MeetingHits(meetings[h.meeting_id], []))
        group.hits.append(_row(h, origins[h.meeting_id]))
    return list(groups.values())


def _row(hit: search.Hit, origin: int) -> HitRow:
    if hit.slide_id is not None:
        near = transcripts_query.segment_near(hit.meeting_id, hit.start_ms)
        label, speaker = "Slide", hit.speaker or "Unknown sharer"
        url = presenters.slide_moment_url(hit.meeting_id, hit.slide_id, near)
    elif hit.chat_id is not None:
        near = transcripts_query.segment_near(hit.meeting_id, hit.start_ms)
        label, speaker = "Chat", hit.speaker or "Unknown sender"
        url = presenters.chat_moment_url(hit.meeting_id, hit.chat_id, near)
    else:
        label, speaker = presenters.TRACK_LABELS[hit.source], hit.speaker or "Unknown speaker"
        url = presenters.moment_url(hit.meeting_id, hit.item_id)
    return HitRow(
        source=hit.source,
        label=label,
        speaker=speaker,
        clock=presenters.clock_label(hit.start_ms, origin),
        # Escaped by the search service; only its own <mark> tags are HTML.
        snippet=mark_safe(hit.snippet),  # noqa: S308
        url=url,
    )
