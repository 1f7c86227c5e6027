"""Who may see which meeting: one rule, used by pages, the API and the live socket.

A meeting is visible to its host (the site user who owns it, or whose linked Zoom user is its
stream's operator), to a panel session whose decrypted Zoom App context names that meeting, and
to staff. Everyone else sees nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module
from typing import Any

from django.conf import settings
from django.contrib import auth
from django.contrib.auth.models import AnonymousUser, User
from django.contrib.sessions.backends.base import SessionBase
from django.db.models import Q, QuerySet
from django.http import HttpRequest

from assistant.models import Meeting, Product, ZoomUserLink
from assistant.services import second_factor
from assistant.services.panel import PanelGrant, grant_of

# The project keeps Django's own user model (no AUTH_USER_MODEL), so request.user is one of these.
AnyUser = User | AnonymousUser

# A panel context's `mid` is a meeting UUID: it names meetings and webinars, nothing else.
_PANEL_PRODUCTS = (Product.MEETING, Product.WEBINAR)


@dataclass(frozen=True)
class Viewer:
    """Whoever asks: the site user (perhaps anonymous) and the panel grant of their session."""

    user: AnyUser
    panel: PanelGrant | None = None

    @classmethod
    def from_request(cls, request: HttpRequest) -> Viewer:
        """The viewer of an HTTP request (after the session and auth middleware)."""
        return cls(user=request.user, panel=grant_of(getattr(request, "session", None)))

    @classmethod
    def from_scope(cls, scope: dict[str, Any]) -> Viewer:
        """The viewer of a Channels scope as the handshake found it (AuthMiddlewareStack).

        Touches the DB (the session is loaded lazily): call off-loop. A socket lives for hours:
        later checks use `from_session_key`, which reads the session afresh.
        """
        session = scope.get("session")
        session = session if isinstance(session, SessionBase) else None
        return cls(user=_second_factor_checked(scope.get("user"), session), panel=grant_of(session))

    @classmethod
    def from_session_key(cls, session_key: str | None) -> Viewer:
        """Whoever a stored session names now; touches the DB: call off-loop.

        For a socket's periodic re-check: the session is read afresh (one query), its user
        loaded and checked as a request's would be (active, password unchanged; one query).
        A session that is gone (signed out, ended) names an anonymous viewer.
        """
        if not session_key:
            return cls(user=AnonymousUser())
        request = HttpRequest()
        request.session = _session_store(session_key=session_key)
        user = _second_factor_checked(auth.get_user(request), request.session)
        return cls(user=user, panel=grant_of(request.session))

    @property
    def is_known(self) -> bool:
        """Signed in, or holding a panel grant: someone the API may answer at all."""
        return _active(self.user) is not None or self.panel is not None


def _second_factor_checked(user: Any, session: SessionBase | None) -> AnyUser:
    """The user, or anonymous when STAFF_2FA asks a second factor this session never gave."""
    if not isinstance(user, User):
        return AnonymousUser()
    if second_factor.required_for(user) and not second_factor.session_is_verified(session):
        return AnonymousUser()
    return user


def _session_store(session_key: str) -> SessionBase:
    store: type[SessionBase] = import_module(settings.SESSION_ENGINE).SessionStore
    return store(session_key=session_key)


def _active(user: AnyUser) -> User | None:
    """The user when signed in and active, else None."""
    return user if isinstance(user, User) and user.is_active else None


def _as_viewer(who: Viewer | AnyUser) -> Viewer:
    return who if isinstance(who, Viewer) else Viewer(user=who)


def visible_meetings(who: Viewer | AnyUser) -> QuerySet[Meeting]:
    """Meetings `who` may open; a plain user is a viewer without a panel grant."""
    viewer = _as_viewer(who)
    user = _active(viewer.user)
    if user is not None and user.is_staff:
        return Meeting.objects.all()
    rule = Q(pk__in=[])
    if user is not None:
        linked = ZoomUserLink.objects.filter(user_id=user.pk).values("zoom_user_id")
        rule |= Q(owner_id=user.pk) | Q(operator_id__in=linked)
    if viewer.panel is not None:
        rule |= Q(zoom_id=viewer.panel.meeting_uuid, product__in=_PANEL_PRODUCTS)
    return Meeting.objects.filter(rule)


def can_view_meeting(who: Viewer | AnyUser, meeting_id: int) -> bool:
    """Whether `who` may see this meeting's captions, notes, participants and chat."""
    return visible_meetings(who).filter(pk=meeting_id).exists()


def is_host_of(who: Viewer | AnyUser, meeting: Meeting) -> bool:
    """Whether `who` may change the meeting (edit notes, choose the transcript): host or staff."""
    user = _active(_as_viewer(who).user)
    if user is None:
        return False
    if user.is_staff or meeting.owner_id == user.pk:
        return True
    return bool(
        meeting.operator_id
        and ZoomUserLink.objects.filter(user_id=user.pk, zoom_user_id=meeting.operator_id).exists()
    )
