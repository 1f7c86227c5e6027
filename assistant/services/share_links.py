"""Share links: a read-only link to a finished meeting's notes and transcript, for anyone.

The token (`secrets.token_urlsafe(32)`: 256 random bits) is handed to the host once, when the
link is made, and only its SHA-256 is stored: a copy of the database opens nothing. A link is
looked up by that hash (one indexed query, the same for every token, known or not). A link
belongs to its meeting: whoever hosts the meeting now lists and revokes it, whoever made it,
and it is deleted with the meeting. Only finished meetings are shared: their notes and
transcript no longer change under the reader. Each opening is logged (time, address, user
agent), and only the newest `OPENINGS_KEPT` of a link are kept, so a crawler cannot fill the
database; `open_count` counts them all. The log names links by id, never by token.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets
from dataclasses import dataclass
from enum import StrEnum

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from assistant.models import Meeting, ShareLink, ShareLinkOpening

log = logging.getLogger(__name__)

TOKEN_BYTES = 32
OPENINGS_KEPT = 50
MAX_ACTIVE_LINKS = 20
USER_AGENT_CHARS = 200
# The expiries the page offers (days), within SHARE_LINK_MAX_DAYS; the default is 7.
OFFERED_DAYS = (1, 7, 30)
DEFAULT_DAYS = 7
# Longer than any token_urlsafe(32) (43 characters): the rest is not worth hashing.
MAX_TOKEN_CHARS = 100


class ShareRefused(Exception):
    """The link cannot be made; the message says why, to the host."""


class LinkState(StrEnum):
    """What a token names."""

    OPEN = "open"
    EXPIRED = "expired"
    REVOKED = "revoked"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Resolved:
    """A token's link (None when unknown) and whether it opens."""

    state: LinkState
    link: ShareLink | None = None


@dataclass(frozen=True)
class NewLink:
    """A link just made, with its token: the only time the token is known."""

    link: ShareLink
    token: str


def token_digest(token: str) -> str:
    """The SHA-256 (hex) a link's token is stored and looked up as."""
    return hashlib.sha256(token.encode()).hexdigest()


def expiry_choices() -> list[int]:
    """The expiries (days) a host may pick: the offered ones within the cap, and the cap."""
    cap = settings.SHARE_LINK_MAX_DAYS
    return sorted({*(d for d in OFFERED_DAYS if d <= cap), cap})


def default_days() -> int:
    """The expiry (days) the page starts with."""
    return min(DEFAULT_DAYS, settings.SHARE_LINK_MAX_DAYS)


def active_links(meeting_id: int, now: dt.datetime | None = None) -> QuerySet[ShareLink]:
    """The meeting's links that still open, newest first, with their creators."""
    now = now or timezone.now()
    return (
        ShareLink.objects.filter(meeting_id=meeting_id, revoked_at__isnull=True, expires_at__gt=now)
        .select_related("created_by")
        .order_by("-created_at", "-id")
    )


def create_link(meeting: Meeting, days: int, created_by: User | None) -> NewLink:
    """Make a link to a finished meeting that opens for `days` days; ShareRefused if not."""
    if not 1 <= days <= settings.SHARE_LINK_MAX_DAYS:
        raise ShareRefused(
            f"A link lasts from 1 to {settings.SHARE_LINK_MAX_DAYS} days (SHARE_LINK_MAX_DAYS)."
        )
    if meeting.is_live:
        raise ShareRefused("A meeting can be shared once it has ended.")
    now = timezone.now()
    with transaction.atomic():
        # Under the meeting's row lock: two requests at once cannot both pass the count.
        Meeting.objects.select_for_update().filter(pk=meeting.pk).first()
        if active_links(meeting.pk, now).count() >= MAX_ACTIVE_LINKS:
            raise ShareRefused(f"At most {MAX_ACTIVE_LINKS} links at once: revoke one first.")
        token = secrets.token_urlsafe(TOKEN_BYTES)
        link = ShareLink.objects.create(
            meeting=meeting,
            token_hash=token_digest(token),
            created_by=created_by,
            expires_at=now + dt.timedelta(days=days),
        )
    log.info(
        "share link %d made for meeting %d by user %s, expires %s",
        link.pk,
        meeting.pk,
        created_by.pk if created_by else None,
        link.expires_at.isoformat(),
    )
    return NewLink(link=link, token=token)


def revoke_link(link_id: int, revoked_by: User | None) -> None:
    """Stop a link from opening, at once; revoking a revoked link changes nothing."""
    changed = ShareLink.objects.filter(pk=link_id, revoked_at__isnull=True).update(
        revoked_at=timezone.now(), revoked_by=revoked_by
    )
    if changed:
        log.info("share link %d revoked by user %s", link_id, revoked_by.pk if revoked_by else None)


def resolve(token: str, now: dt.datetime | None = None) -> Resolved:
    """What a token opens: its link, and whether it is open, expired or revoked."""
    if len(token) > MAX_TOKEN_CHARS:
        return Resolved(LinkState.UNKNOWN)
    link = (
        ShareLink.objects.filter(token_hash=token_digest(token)).select_related("meeting").first()
    )
    if link is None:
        return Resolved(LinkState.UNKNOWN)
    if link.revoked_at is not None:
        return Resolved(LinkState.REVOKED, link)
    if link.expires_at <= (now or timezone.now()):
        return Resolved(LinkState.EXPIRED, link)
    return Resolved(LinkState.OPEN, link)


def record_opening(link_id: int, address: str | None, user_agent: str) -> None:
    """Log an opening of the link, keeping only its newest OPENINGS_KEPT."""
    now = timezone.now()
    with transaction.atomic():
        ShareLinkOpening.objects.create(
            link_id=link_id,
            at=now,
            client_address=(address or "")[:64],
            user_agent=user_agent[:USER_AGENT_CHARS],
        )
        ShareLink.objects.filter(pk=link_id).update(
            open_count=F("open_count") + 1, last_opened_at=now
        )
        older = ShareLinkOpening.objects.filter(link_id=link_id).order_by("-at", "-id")
        stale = list(older.values_list("pk", flat=True)[OPENINGS_KEPT : OPENINGS_KEPT + 100])
        if stale:
            ShareLinkOpening.objects.filter(pk__in=stale).delete()
    log.info("share link %d opened", link_id)
