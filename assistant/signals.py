"""Signal receivers: a sign-out closes the live sockets that session opened, at once."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_out
from django.dispatch import receiver
from django.http import HttpRequest

from assistant.services import sessions


@receiver(user_logged_out, dispatch_uid="assistant.close_sockets_on_sign_out")
def close_sockets_on_sign_out(sender: Any, request: HttpRequest | None, **kwargs: Any) -> None:
    """Django's logout sends this before it flushes the session: its key is still known."""
    key = getattr(getattr(request, "session", None), "session_key", None)
    if key:
        sessions.close_live_sockets(session_keys=[key])
