"""The simulator's Zoom OAuth and REST endpoints: a small HTTP/1.1 server on the simulator's loop.

    ZOOM_OAUTH_BASE_URL = api.base_url          ZOOM_API_BASE_URL = api.base_url + "/v2"

Routes (what the app calls; anything else is 404):
- `GET /oauth/authorize?...`: consents at once as `consenting_user_id`, if one is set (the demo),
  and sends the browser back to `redirect_uri` with a code and the state;
- `POST /oauth/token`: authorization code (PKCE S256) or refresh token (zoom_tokens.py);
- `GET /v2/users/me`: who the bearer token names;
- `PATCH /v2/live_meetings/{meetingId}/rtms_app/status`: RTMS control (live_meetings.py).

One request per connection (`Connection: close`), bodies up to 64 KiB, no keep-alive, no
chunked bodies: enough for urllib and a browser, and nothing more. Tokens are never logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from rtms_ingest.simulator.live_meetings import LiveMeetings
from rtms_ingest.simulator.zoom_tokens import ZoomTokenStore

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024
MAX_HEADER_LINES = 100
READ_TIMEOUT_S = 10.0
_RTMS_STATUS = re.compile(r"^/v2/live_meetings/([^/]+)/rtms_app/status$")


@dataclass(frozen=True)
class HttpRequest:
    """One parsed request."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names
    body: bytes


@dataclass(frozen=True)
class HttpAnswer:
    """One answer: a status, a JSON body (None: no body) and extra headers."""

    status: int
    body: dict[str, Any] | None = None
    headers: tuple[tuple[str, str], ...] = ()


class ZoomApiServer:
    """Zoom's OAuth and REST API as the app uses them, on 127.0.0.1 (or `host`) and a port."""

    def __init__(
        self,
        tokens: ZoomTokenStore,
        meetings: LiveMeetings,
        host: str = "127.0.0.1",
        port: int = 0,
        consenting_user_id: str | None = None,
    ) -> None:
        self.tokens = tokens
        self.meetings = meetings
        self.host = host
        self.port = port
        self.consenting_user_id = consenting_user_id
        self._server: asyncio.Server | None = None

    @property
    def base_url(self) -> str:
        """http://host:port: the OAuth base URL; the REST base is this plus /v2."""
        return f"http://{self.host}:{self.port}"

    async def start(self) -> int:
        """Listen; returns the port."""
        self._server = await asyncio.start_server(self._serve, self.host, self.port)
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self.port

    async def close(self) -> None:
        """Stop listening."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            try:
                request = await asyncio.wait_for(_read_request(reader), READ_TIMEOUT_S)
            except (ValueError, asyncio.IncompleteReadError, TimeoutError):
                answer = HttpAnswer(400, {"message": "Bad request."})
            else:
                answer = await self._route(request)
            writer.write(_encode(answer))
            await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    async def _route(self, request: HttpRequest) -> HttpAnswer:
        route = (request.method, request.path)
        if route == ("POST", "/oauth/token"):
            form = dict(parse_qsl(request.body.decode("utf-8", "replace")))
            authorization = request.headers.get("authorization", "")
            return HttpAnswer(*self.tokens.token_endpoint(authorization, form))
        if route == ("GET", "/oauth/authorize"):
            return self._authorize(request.query)
        match = _RTMS_STATUS.match(request.path)
        if route == ("GET", "/v2/users/me") or (match and request.method == "PATCH"):
            who = self.tokens.bearer(request.headers.get("authorization", ""))
            if not isinstance(who, str):
                return HttpAnswer(*who)
            if match is None:
                return HttpAnswer(200, {"id": who, "first_name": "Simulated", "last_name": "Host"})
            return await self._rtms_status(match.group(1), who, request.body)
        return HttpAnswer(404, {"code": 404, "message": "Not found."})

    async def _rtms_status(self, meeting_id: str, user_id: str, raw: bytes) -> HttpAnswer:
        try:
            body = json.loads(raw)
        except ValueError:
            return HttpAnswer(400, {"code": 300, "message": "The body is not JSON."})
        status, answer = await self.meetings.control(meeting_id, user_id, body)
        log.info("zoom api: rtms_app/status %s -> %d", body.get("action"), status)
        return HttpAnswer(status, None if status == 204 else answer)

    def _authorize(self, query: dict[str, str]) -> HttpAnswer:
        redirect_uri = query.get("redirect_uri", "")
        ok = (
            self.consenting_user_id is not None
            and query.get("client_id") == self.tokens.client_id
            and query.get("code_challenge_method") == "S256"
            and urlsplit(redirect_uri).scheme in ("http", "https")
        )
        if not ok or self.consenting_user_id is None:
            return HttpAnswer(400, {"message": "This simulator does not consent to that."})
        code = self.tokens.issue_code(
            self.consenting_user_id, query.get("code_challenge", ""), redirect_uri
        )
        back = f"{redirect_uri}?{urlencode({'code': code, 'state': query.get('state', '')})}"
        return HttpAnswer(302, None, (("Location", back),))


async def _read_request(reader: asyncio.StreamReader) -> HttpRequest:
    method, target, _ = (await reader.readline()).decode("latin-1").split(" ", 2)
    headers: dict[str, str] = {}
    for _ in range(MAX_HEADER_LINES):
        line = (await reader.readline()).decode("latin-1").strip()
        if not line:
            break
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    else:
        raise ValueError("too many header lines")
    length = int(headers.get("content-length") or 0)
    if not 0 <= length <= MAX_BODY_BYTES:
        raise ValueError("body too large")
    body = await reader.readexactly(length)
    parts = urlsplit(target)
    return HttpRequest(method, parts.path, dict(parse_qsl(parts.query)), headers, body)


def _encode(answer: HttpAnswer) -> bytes:
    raw = b"" if answer.body is None else json.dumps(answer.body).encode()
    reason = HTTPStatus(answer.status).phrase
    lines = [f"HTTP/1.1 {answer.status} {reason}", "Connection: close"]
    if answer.body is not None:
        lines.append("Content-Type: application/json")
    if answer.status != 204:
        lines.append(f"Content-Length: {len(raw)}")
    lines += [f"{name}: {value}" for name, value in answer.headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + raw
