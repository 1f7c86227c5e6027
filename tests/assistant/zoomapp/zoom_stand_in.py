"""A local stand-in for Zoom's OAuth and REST endpoints: a real HTTP server on port 0.

It checks what Zoom checks (client credentials, PKCE S256, single-use codes, rotating refresh
tokens, bearer tokens) so our client is tested over real sockets, not against mocks.
`fail_next` injects failures (a Zoom outage cannot be summoned on demand).
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import threading
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class ZoomStandIn:
    client_id: str
    client_secret: str
    user: dict[str, Any]
    expires_in: int = 3600
    codes: dict[str, tuple[str, str]] = field(default_factory=dict)  # code -> challenge, uri
    access_tokens: set[str] = field(default_factory=set)
    refresh_tokens: set[str] = field(default_factory=set)
    failures: list[int] = field(default_factory=list)
    rtms_calls: list[tuple[str, Any]] = field(default_factory=list)
    compliance_reports: list[Any] = field(default_factory=list)
    token_calls: int = 0
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def issue_code(self, code_challenge: str, redirect_uri: str) -> str:
        """What Zoom does once the user consents: a code bound to the challenge."""
        code = f"code-{next(self._ids)}"
        self.codes[code] = (code_challenge, redirect_uri)
        return code

    def fail_next(self, status: int, times: int = 1) -> None:
        self.failures.extend([status] * times)

    def _tokens(self) -> dict[str, Any]:
        n = next(self._ids)
        access, refresh = f"access-{n}", f"refresh-{n}"
        self.access_tokens.add(access)
        self.refresh_tokens.add(refresh)
        return {
            "access_token": access,
            "refresh_token": refresh,
            "expires_in": self.expires_in,
            "scope": "user:read:user meeting:update:participant_rtms_app_status",
            "token_type": "bearer",
        }

    def token(self, auth: str, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        self.token_calls += 1
        expected = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        if auth != f"Basic {expected}":
            return 401, {"reason": "Invalid client_id or client_secret"}
        if form.get("grant_type") == "authorization_code":
            bound = self.codes.pop(form.get("code", ""), None)
            if bound is None:
                return 400, {"reason": "Invalid authorization code"}
            challenge, uri = bound
            verifier = form.get("code_verifier", "")
            digest = hashlib.sha256(verifier.encode()).digest()
            if base64.urlsafe_b64encode(digest).rstrip(b"=").decode() != challenge:
                return 400, {"reason": "Invalid code verifier"}
            if form.get("redirect_uri") != uri:
                return 400, {"reason": "Redirect URI mismatch"}
            return 200, self._tokens()
        if form.get("grant_type") == "refresh_token":
            refresh = form.get("refresh_token", "")
            if refresh not in self.refresh_tokens:
                return 400, {"reason": "Invalid Token!"}
            self.refresh_tokens.discard(refresh)  # refresh tokens rotate: each works once
            return 200, self._tokens()
        return 400, {"reason": "unsupported grant_type"}


def _handler(zoom: ZoomStandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _answer(self, status: int, body: Any) -> None:
            raw = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def _body(self) -> bytes:
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))

        def _failure(self) -> bool:
            if zoom.failures:
                self._answer(zoom.failures.pop(0), {"reason": "injected failure"})
                return True
            return False

        def _bearer_ok(self) -> bool:
            token = self.headers.get("Authorization", "").removeprefix("Bearer ")
            if token in zoom.access_tokens:
                return True
            self._answer(401, {"code": 124, "message": "Invalid access token."})
            return False

        def do_POST(self) -> None:
            body = self._body()
            if self._failure():
                return
            if self.path == "/oauth/token":
                form = dict(urllib.parse.parse_qsl(body.decode()))
                self._answer(*zoom.token(self.headers.get("Authorization", ""), form))
            elif self.path == "/oauth/data/compliance":
                pair = base64.b64encode(f"{zoom.client_id}:{zoom.client_secret}".encode())
                if self.headers.get("Authorization") != f"Basic {pair.decode()}":
                    self._answer(401, {"reason": "Invalid client"})
                    return
                zoom.compliance_reports.append(json.loads(body))
                self._answer(200, {})
            else:
                self._answer(404, {})

        def do_GET(self) -> None:
            if self._failure():
                return
            if self.path == "/v2/users/me" and self._bearer_ok():
                self._answer(200, zoom.user)
            elif self.path != "/v2/users/me":
                self._answer(404, {})

        def do_PATCH(self) -> None:
            body = self._body()
            if self._failure() or not self._bearer_ok():
                return
            zoom.rtms_calls.append((self.path, json.loads(body)))
            self.send_response(204)
            self.end_headers()

    return Handler


class RunningStandIn:
    """The stand-in served on 127.0.0.1:<free port> in a thread."""

    def __init__(self, zoom: ZoomStandIn) -> None:
        self.zoom = zoom
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(zoom))
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> RunningStandIn:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)
