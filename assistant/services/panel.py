"""Zoom App panel sessions: a checked app context becomes a grant in our own server session.

The context token is accepted once (the SHA-256 of its decoded bytes is kept until it expires:
a re-spelling of its base64 is the same token), whether it came in the Home URL's header or
from the page's getAppContext(). The grant names the meeting (`mid`) and the Zoom user (empty
for a guest); the access rule (services/access.py) reads it back.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.db import IntegrityError, transaction
from django.utils import timezone

from assistant.models import ZoomAppContextUse
from assistant.zoomapp.context import AppContext, ContextError, read_context, token_digest

SESSION_KEY = "zoomapp_panel"


@dataclass(frozen=True)
class PanelGrant:
    """What a panel session may see: one meeting, as one Zoom user (or a guest), until a time."""

    meeting_uuid: str
    zoom_user_id: str
    role: str
    until: float  # epoch seconds

    @property
    def is_host(self) -> bool:
        """Host or co-host when the context was issued (decides which controls are shown)."""
        return self.role in ("host", "co-host")


def normalise_meeting_uuid(value: str) -> str:
    """One spelling of a meeting UUID: Zoom sometimes hands it URL-encoded, even twice."""
    text = value.strip()
    for _ in range(2):
        if "%" not in text:
            break
        text = unquote(text)
    return text


def open_context(token: str) -> AppContext:
    """Decrypt, check and claim a context token; raises ContextError (replays included)."""
    context = read_context(
        token,
        client_id=settings.ZOOM_CLIENT_ID,
        client_secret=settings.ZOOM_CLIENT_SECRET,
        now_ms=int(time.time() * 1000),
        max_chars=settings.ZOOMAPP_CONTEXT_MAX_CHARS,
    )
    _claim_once(token_digest(token), context.expires_ms)
    return context


def _claim_once(digest: str, expires_ms: int) -> None:
    expires_at = datetime.fromtimestamp(expires_ms / 1000, tz=UTC)
    # Expired claims can go: an expired token is refused before it gets here.
    ZoomAppContextUse.objects.filter(expires_at__lt=timezone.now()).delete()
    try:
        with transaction.atomic():
            ZoomAppContextUse.objects.create(digest=digest, expires_at=expires_at)
    except IntegrityError:
        raise ContextError("replayed") from None


def bind(session: SessionBase, context: AppContext) -> PanelGrant:
    """Store the grant in the session, under a fresh session key (no fixation)."""
    grant = PanelGrant(
        meeting_uuid=normalise_meeting_uuid(context.meeting_uuid),
        zoom_user_id=context.zoom_user_id,
        role=context.role,
        until=time.time() + settings.ZOOMAPP_SESSION_TTL_S,
    )
    session.cycle_key()
    session[SESSION_KEY] = asdict(grant)
    return grant


def grant_of(session: SessionBase | None) -> PanelGrant | None:
    """The session's unexpired panel grant, if any."""
    if session is None:
        return None
    stored: Any = session.get(SESSION_KEY)
    if not isinstance(stored, dict):
        return None
    try:
        grant = PanelGrant(
            meeting_uuid=str(stored["meeting_uuid"]),
            zoom_user_id=str(stored["zoom_user_id"]),
            role=str(stored["role"]),
            until=float(stored["until"]),
        )
    except (KeyError, TypeError, ValueError):
        return None
    if grant.until < time.time() or not grant.meeting_uuid:
        return None
    return grant
