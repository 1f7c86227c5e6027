"""The simulator's Zoom OAuth: codes, access and refresh tokens, shared by its OAuth and REST fakes.

What Zoom does, as far as the app can tell (reference docs/zoom-apps.md §3): the token endpoint
checks the client's Basic credentials, a code's PKCE S256 verifier and redirect URI (each code
works once), and refresh tokens rotate (each works once). A bearer token names a Zoom user until
it expires. Tests expire and revoke tokens on purpose (`expire`, `revoke`); the store is
thread-safe because they do so from their own thread while the simulator's loop serves.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any

Answer = tuple[int, dict[str, Any]]

SCOPES = "user:read:user meeting:update:participant_rtms_app_status"


@dataclass(frozen=True)
class _Code:
    user_id: str
    challenge: str
    redirect_uri: str


@dataclass
class ZoomTokenStore:
    """Tokens the simulator issued, by value; which Zoom user each one names."""

    client_id: str
    client_secret: str
    expires_in: int = 3600
    # Token endpoint calls by grant type, for tests ("authorization_code", "refresh_token").
    grants: list[str] = field(default_factory=list)
    _codes: dict[str, _Code] = field(default_factory=dict)
    _access: dict[str, tuple[str, float]] = field(default_factory=dict)  # token -> user, expiry
    _refresh: dict[str, str] = field(default_factory=dict)  # token -> user
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _serial: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def issue_code(self, user_id: str, code_challenge: str, redirect_uri: str) -> str:
        """What Zoom does once the user consents: a one-use code bound to the PKCE challenge."""
        code = f"sim-code-{next(self._serial)}-{secrets.token_urlsafe(12)}"
        with self._lock:
            self._codes[code] = _Code(user_id, code_challenge, redirect_uri)
        return code

    def issue(self, user_id: str) -> dict[str, Any]:
        """A fresh access and refresh token for `user_id`, as the token endpoint answers them."""
        n = next(self._serial)
        access = f"sim-access-{n}-{secrets.token_urlsafe(16)}"
        refresh = f"sim-refresh-{n}-{secrets.token_urlsafe(16)}"
        with self._lock:
            self._access[access] = (user_id, time.time() + self.expires_in)
            self._refresh[refresh] = user_id
        return {
            "access_token": access,
            "refresh_token": refresh,
            "expires_in": self.expires_in,
            "scope": SCOPES,
            "token_type": "bearer",
        }

    def expire(self, user_id: str) -> int:
        """Let every access token of `user_id` run out now (tests); how many."""
        with self._lock:
            mine = [t for t, (user, _) in self._access.items() if user == user_id]
            for token in mine:
                self._access[token] = (user_id, 0.0)
        return len(mine)

    def revoke(self, user_id: str) -> None:
        """Forget every token of `user_id`, as when they remove the app (tests)."""
        with self._lock:
            self._access = {t: v for t, v in self._access.items() if v[0] != user_id}
            self._refresh = {t: u for t, u in self._refresh.items() if u != user_id}

    def bearer(self, authorization: str) -> str | Answer:
        """The Zoom user an `Authorization: Bearer` header names, or Zoom's 401 answer."""
        token = authorization.removeprefix("Bearer ").strip()
        with self._lock:
            entry = self._access.get(token) if authorization.startswith("Bearer ") else None
        if entry is None:
            return 401, {"code": 124, "message": "Invalid access token."}
        user_id, expires_at = entry
        if expires_at <= time.time():
            return 401, {"code": 124, "message": "Access token is expired."}
        return user_id

    def token_endpoint(self, authorization: str, form: dict[str, str]) -> Answer:
        """POST /oauth/token: an authorization code or a refresh token traded for tokens."""
        grant = form.get("grant_type", "")
        self.grants.append(grant)
        pair = f"{self.client_id}:{self.client_secret}".encode()
        expected = "Basic " + base64.b64encode(pair).decode()
        if not hmac.compare_digest(authorization.encode(), expected.encode()):
            return 401, {"reason": "Invalid client_id or client_secret", "error": "invalid_client"}
        if grant == "authorization_code":
            return self._trade_code(form)
        if grant == "refresh_token":
            with self._lock:
                user_id = self._refresh.pop(form.get("refresh_token", ""), None)
            if user_id is None:  # unknown, used already (they rotate) or revoked
                return 400, {"reason": "Invalid Token!", "error": "invalid_grant"}
            return 200, self.issue(user_id)
        return 400, {"reason": "Unsupported grant type", "error": "unsupported_grant_type"}

    def _trade_code(self, form: dict[str, str]) -> Answer:
        with self._lock:
            code = self._codes.pop(form.get("code", ""), None)
        if code is None:
            return 400, {"reason": "Invalid authorization code", "error": "invalid_grant"}
        digest = hashlib.sha256(form.get("code_verifier", "").encode()).digest()
        challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
        if not hmac.compare_digest(challenge, code.challenge):
            return 400, {"reason": "Invalid code verifier", "error": "invalid_grant"}
        if form.get("redirect_uri") != code.redirect_uri:
            return 400, {"reason": "Redirect URI mismatch", "error": "invalid_grant"}
        return 200, self.issue(code.user_id)
