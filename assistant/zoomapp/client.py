"""The one client for Zoom's OAuth and REST endpoints: timeouts, retries and clear errors.

Base URLs are settings (ZOOM_OAUTH_BASE_URL, ZOOM_API_BASE_URL) so tests point it at a local
stand-in server. Tokens and bodies are never logged.
"""

from __future__ import annotations

import base64
import json
import logging
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

from django.conf import settings

log = logging.getLogger(__name__)

ATTEMPTS = 3
BACKOFF_S = 0.5
_RETRYABLE = frozenset({429, 500, 502, 503, 504})


class ZoomError(RuntimeError):
    """A Zoom call that failed for good; `status` is the HTTP status (0: no answer)."""

    def __init__(
        self, message: str, status: int = 0, reason: str = "", code: int | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason
        # Zoom's own error number in the body ({"code": 10308, "message": ...}), if any.
        self.code = code


@dataclass(frozen=True)
class TokenSet:
    """What Zoom's token endpoint answers."""

    access_token: str
    refresh_token: str
    expires_in: int
    scopes: tuple[str, ...]

    @classmethod
    def from_json(cls, body: Any) -> TokenSet:
        """Parse a token response; a response without the tokens is an error."""
        try:
            return cls(
                access_token=str(body["access_token"]),
                refresh_token=str(body["refresh_token"]),
                expires_in=int(body["expires_in"]),
                scopes=tuple(str(body.get("scope", "")).split()),
            )
        except (KeyError, TypeError, ValueError):
            raise ZoomError("Zoom's token response lacks the tokens.") from None


def _basic_auth() -> str:
    pair = f"{settings.ZOOM_CLIENT_ID}:{settings.ZOOM_CLIENT_SECRET}".encode()
    return "Basic " + base64.b64encode(pair).decode()


def _call(method: str, url: str, *, headers: dict[str, str], body: bytes | None = None) -> Any:
    """One JSON call with retries on network errors, 429 and 5xx; other errors at once."""
    what = f"{method} {urllib.parse.urlsplit(url).path}"
    for attempt in range(1, ATTEMPTS + 1):
        request = urllib.request.Request(url, data=body, method=method, headers=headers)  # noqa: S310
        try:
            with urllib.request.urlopen(  # noqa: S310 (https to Zoom, or a configured stand-in)
                request, timeout=settings.ZOOM_HTTP_TIMEOUT_S
            ) as response:
                raw = response.read()
                return json.loads(raw) if raw else {}
        except urllib.error.HTTPError as exc:
            reason, code = _reason(exc)
            if exc.code not in _RETRYABLE or attempt == ATTEMPTS:
                raise ZoomError(
                    f"{what} failed: HTTP {exc.code} {reason}", exc.code, reason, code
                ) from None
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            if attempt == ATTEMPTS:
                raise ZoomError(f"{what} failed: Zoom did not answer ({exc})") from None
        except ValueError:
            raise ZoomError(f"{what} failed: the answer is not JSON") from None
        log.warning("zoom: %s attempt %d failed, retrying", what, attempt)
        time.sleep(BACKOFF_S * 2 ** (attempt - 1))
    raise AssertionError("unreachable")


def _reason(error: urllib.error.HTTPError) -> tuple[str, int | None]:
    """Zoom's words for an error answer and its error number, when the body has them."""
    try:
        body = json.loads(error.read() or b"{}")
    except ValueError:
        return "", None
    if not isinstance(body, dict):
        return "", None
    reason = str(body.get("reason") or body.get("error") or body.get("message") or "")[:200]
    code = body.get("code")
    return reason, code if isinstance(code, int) and not isinstance(code, bool) else None


def _token_call(form: dict[str, str]) -> TokenSet:
    body = urllib.parse.urlencode(form).encode()
    answer = _call(
        "POST",
        f"{settings.ZOOM_OAUTH_BASE_URL}/oauth/token",
        headers={
            "Authorization": _basic_auth(),
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": "application/json",
        },
        body=body,
    )
    return TokenSet.from_json(answer)


def authorize_url(*, state: str, code_challenge: str, redirect_uri: str) -> str:
    """Where the browser goes to install the app (authorization code with PKCE S256)."""
    query = urllib.parse.urlencode(
        {
            "response_type": "code",
            "client_id": settings.ZOOM_CLIENT_ID,
            "redirect_uri": redirect_uri,
            "state": state,
            "code_challenge": code_challenge,
            "code_challenge_method": "S256",
        }
    )
    return f"{settings.ZOOM_OAUTH_BASE_URL}/oauth/authorize?{query}"


def exchange_code(*, code: str, redirect_uri: str, code_verifier: str) -> TokenSet:
    """Trade an authorization code (and its PKCE verifier) for tokens."""
    return _token_call(
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "code_verifier": code_verifier,
        }
    )


def refresh_tokens(refresh_token: str) -> TokenSet:
    """Trade a refresh token for a new pair (Zoom rotates them: the old one stops working)."""
    return _token_call({"grant_type": "refresh_token", "refresh_token": refresh_token})


def api(method: str, path: str, access_token: str, payload: Any = None) -> Any:
    """A REST call as the user whose access token this is."""
    body = None if payload is None else json.dumps(payload).encode()
    headers = {"Authorization": f"Bearer {access_token}", "Accept": "application/json"}
    if body is not None:
        headers["Content-Type"] = "application/json"
    return _call(method, f"{settings.ZOOM_API_BASE_URL}{path}", headers=headers, body=body)


def users_me(access_token: str) -> dict[str, Any]:
    """GET /users/me: the Zoom user (id, account_id, names) the token belongs to."""
    answer = api("GET", "/users/me", access_token)
    if not isinstance(answer, dict) or not answer.get("id"):
        raise ZoomError("GET /users/me answered without a user id.")
    return answer


def meeting_path_id(meeting_id: str) -> str:
    """A meeting id as a REST path segment: a UUID starting with / or holding // is encoded
    twice, as Zoom asks; any other UUID once; a numeric id as it is."""
    if meeting_id.isdigit():
        return meeting_id
    once = urllib.parse.quote(meeting_id, safe="")
    if meeting_id.startswith("/") or "//" in meeting_id:
        return urllib.parse.quote(once, safe="")
    return once


def set_rtms_app_status(access_token: str, meeting_id: str, action: str) -> None:
    """PATCH /live_meetings/{id}/rtms_app/status: start, pause, resume or stop our app's RTMS."""
    api(
        "PATCH",
        f"/live_meetings/{meeting_path_id(meeting_id)}/rtms_app/status",
        access_token,
        {"action": action, "settings": {"client_id": settings.ZOOM_CLIENT_ID}},
    )


def report_data_compliance(body: dict[str, Any]) -> None:
    """POST Zoom's data-compliance endpoint: what we did after an app_deauthorized event."""
    _call(
        "POST",
        settings.ZOOM_COMPLIANCE_URL,
        headers={
            "Authorization": _basic_auth(),
            "Content-Type": "application/json",
            "Accept": "application/json",
        },
        body=json.dumps(body).encode(),
    )
