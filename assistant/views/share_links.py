"""The host's share links of a meeting, as JSON for the finished page's Share control.

`GET /api/meetings/<id>/share-links/`: the links that still open (with their openings) and
the expiries on offer; `POST` the same URL `{"expires_in_days": N}`: a new link, whose URL is
in this answer only (the token is not kept); `DELETE /api/share-links/<id>/`: revoke it.

Same session and access rule as the notes API (assistant/views/notes_api.py): signed out is
401, a meeting the user may not see is 404, anyone who may see it but does not host it
(a panel viewer) gets 403; the host (owner or linked operator) and staff may. CSRF is checked
by Django's middleware on POST and DELETE.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.contrib.auth.models import User
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.utils import formats, timezone
from django.views.decorators.cache import never_cache

from assistant.models import Meeting, ShareLink, ShareLinkOpening
from assistant.services import access, share_links
from assistant.views.api import error

MAX_BODY_BYTES = 1024


@never_cache
def meeting_share_links(request: HttpRequest, meeting_id: int) -> HttpResponse:
    """GET: the meeting's open links; POST {expires_in_days}: a new link and its URL (once)."""
    refused = _signed_in(request, "GET", "POST")
    if refused is not None:
        return refused
    meeting = Meeting.objects.filter(pk=meeting_id).first()
    if meeting is None:
        return error("No such meeting.", 404)
    refused = _host_only(request, meeting, "meeting")
    if refused is not None:
        return refused
    if request.method == "GET":
        return JsonResponse(_listing(meeting))
    days = _days(request.body)
    if days is None:
        return error('Send {"expires_in_days": N}, N a whole number of days.', 400)
    user = request.user if isinstance(request.user, User) else None
    try:
        made = share_links.create_link(meeting, days, user)
    except share_links.ShareRefused as exc:
        return error(str(exc), 400)
    url = request.build_absolute_uri(reverse("shared-meeting", args=[made.token]))
    return JsonResponse({"url": url, "link": link_json(made.link, [])}, status=201)


@never_cache
def share_link(request: HttpRequest, link_id: int) -> HttpResponse:
    """DELETE /api/share-links/<id>/: revoke the link; it stops opening at once."""
    refused = _signed_in(request, "DELETE")
    if refused is not None:
        return refused
    link = ShareLink.objects.filter(pk=link_id).select_related("meeting").first()
    if link is None:
        return error("No such share link.", 404)
    refused = _host_only(request, link.meeting, "share link")
    if refused is not None:
        return refused
    user = request.user if isinstance(request.user, User) else None
    share_links.revoke_link(link.pk, user)
    return HttpResponse(status=204)


def _signed_in(request: HttpRequest, *methods: str) -> HttpResponse | None:
    """405 for other methods, 401 unless a site user is signed in (a panel grant is not)."""
    if request.method not in methods:
        response = error(f"Only {' or '.join(methods)} is allowed.", 405)
        response["Allow"] = ", ".join(methods)
        return response
    if not request.user.is_authenticated:
        return error("Authentication required: sign in first.", 401)
    return None


def _host_only(request: HttpRequest, meeting: Meeting, what: str) -> HttpResponse | None:
    """404 (no such `what`) unless the user may see the meeting, 403 unless they host it."""
    viewer = access.Viewer.from_request(request)
    if not access.can_view_meeting(viewer, meeting.pk):
        return error(f"No such {what}.", 404)
    if not access.is_host_of(viewer, meeting):
        return error("Only the meeting's host may share it.", 403)
    return None


def _days(body: bytes) -> int | None:
    """`expires_in_days` of a JSON body {"expires_in_days": N}, or None when it is not one."""
    if len(body) > MAX_BODY_BYTES:
        return None
    try:
        parsed: Any = json.loads(body or b"{}")
    except (ValueError, UnicodeDecodeError):
        return None
    days = parsed.get("expires_in_days") if isinstance(parsed, dict) else None
    # bool is an int to Python, not a number of days.
    return days if isinstance(days, int) and not isinstance(days, bool) else None


def _listing(meeting: Meeting) -> dict[str, Any]:
    """The Share control's data: the open links and the expiries a host may pick."""
    newest_first = ShareLinkOpening.objects.order_by("-at", "-id")
    links = share_links.active_links(meeting.pk).prefetch_related(
        Prefetch("openings", queryset=newest_first, to_attr="newest_openings")
    )
    return {
        "shareable": not meeting.is_live,
        "expiry_days": share_links.expiry_choices(),
        "default_days": share_links.default_days(),
        "links": [link_json(link, link.newest_openings) for link in links],
    }


def link_json(link: ShareLink, openings: list[ShareLinkOpening]) -> dict[str, Any]:
    """A link as the Share control shows it (never its token: it is not kept)."""
    creator = link.created_by
    return {
        "id": link.pk,
        "created_at": link.created_at.isoformat(),
        "created_label": _label(link.created_at),
        "created_by": (creator.get_full_name() or creator.get_username()) if creator else "",
        "expires_at": link.expires_at.isoformat(),
        "expires_label": _label(link.expires_at),
        "open_count": link.open_count,
        "last_opened_label": _label(link.last_opened_at) if link.last_opened_at else "",
        "openings": [
            {
                "at": o.at.isoformat(),
                "at_label": _label(o.at),
                "address": o.client_address,
                "user_agent": o.user_agent,
            }
            for o in openings
        ],
    }


def _label(moment: dt.datetime) -> str:
    """A moment as the site writes one ("7 Mar 2026, 14:02"), in TIME_ZONE."""
    return formats.date_format(timezone.localtime(moment), "DATETIME_FORMAT")
