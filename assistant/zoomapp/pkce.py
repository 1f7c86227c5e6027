"""OAuth `state` and PKCE (S256), kept in the server session: required, single-use, short-lived."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

from django.contrib.sessions.backends.base import SessionBase

SESSION_KEY = "zoom_oauth_pending"


class StateError(ValueError):
    """A callback whose state is missing, unknown, reused or too old."""


@dataclass(frozen=True)
class Pending:
    """What the authorize step hands out: the state and the S256 code challenge."""

    state: str
    code_challenge: str


def code_challenge(verifier: str) -> str:
    """BASE64URL(SHA-256(verifier)) without padding (RFC 7636, S256)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def begin(session: SessionBase) -> Pending:
    """A new state and verifier in the session (replacing any earlier, unfinished one)."""
    state = secrets.token_urlsafe(32)
    verifier = secrets.token_urlsafe(64)
    session[SESSION_KEY] = {"state": state, "verifier": verifier, "at": time.time()}
    return Pending(state=state, code_challenge=code_challenge(verifier))


def finish(session: SessionBase, state: str | None, ttl_s: float) -> str:
    """The PKCE verifier of this state; the pending state is gone afterwards, used or not."""
    pending = session.pop(SESSION_KEY, None)
    if not state or not isinstance(pending, dict):
        raise StateError("no authorization in progress")
    if not hmac.compare_digest(str(pending.get("state", "")), state):
        raise StateError("state does not match")
    if time.time() - float(pending.get("at", 0)) > ttl_s:
        raise StateError("authorization took too long")
    return str(pending["verifier"])
