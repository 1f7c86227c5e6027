"""Ending access: a sign-out closes that session's live sockets; a deauthorized user loses all.

The close reaches the consumers over the channel layer after commit (house rule 5,
services/broadcasts.py), through the session and user groups every socket joins
(assistant/events.py). A push that gets lost is no hole: each socket re-checks its access on
the server's own clock (LIVE_ACCESS_RECHECK_S).
"""

from __future__ import annotations

from collections.abc import Iterable
from importlib import import_module
from typing import Any

from django.conf import settings
from django.contrib.auth import SESSION_KEY as AUTH_USER_KEY
from django.contrib.sessions.backends.base import SessionBase
from django.contrib.sessions.models import Session
from django.utils import timezone

from assistant import events
from assistant.services import broadcasts
from assistant.services.panel import SESSION_KEY as PANEL_KEY

# The close code of a socket whose session ended (live-socket.js shows "signed out" and stops).
CLOSE_SIGNED_OUT = 4401


def close_live_sockets(*, session_keys: Iterable[str] = (), user_ids: Iterable[int] = ()) -> None:
    """Once committed, close the live sockets of these sessions and users (CLOSE_SIGNED_OUT)."""
    groups = [events.session_group(key) for key in session_keys if key]
    groups += [events.user_group(user_id) for user_id in user_ids]
    message: events.AccessEndedMessage = {
        "type": events.ACCESS_ENDED_MESSAGE_TYPE,
        "code": CLOSE_SIGNED_OUT,
    }
    # A lost one is not fatal: the socket's own re-check finds the session gone within its period.
    for group in groups:
        broadcasts.after_commit(
            broadcasts.Broadcast(group, dict(message), about=f"the closing of {group}'s sockets")
        )


def end_sessions_of(*, user_id: int | None, zoom_user_id: str) -> int:
    """Delete every live session of the site user or with the Zoom user's panel grant.

    Their sockets are closed after commit. Sessions are found by reading each unexpired one:
    Django keeps no index of sessions by user, and this runs once per deauthorization.
    Returns how many sessions were ended.
    """
    store: type[SessionBase] = import_module(settings.SESSION_ENGINE).SessionStore
    ended: list[str] = []
    for row in Session.objects.filter(expire_date__gt=timezone.now()).iterator(chunk_size=500):
        if _belongs_to(row.get_decoded(), user_id, zoom_user_id):
            store(session_key=row.session_key).delete()  # the store's own: cached_db's cache too
            ended.append(row.session_key)
    close_live_sockets(session_keys=ended, user_ids=[user_id] if user_id is not None else [])
    return len(ended)


def _belongs_to(data: dict[str, Any], user_id: int | None, zoom_user_id: str) -> bool:
    if user_id is not None and str(data.get(AUTH_USER_KEY, "")) == str(user_id):
        return True
    grant: Any = data.get(PANEL_KEY)
    return (
        bool(zoom_user_id) and isinstance(grant, dict) and grant.get("zoom_user_id") == zoom_user_id
    )
