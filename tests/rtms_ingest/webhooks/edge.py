"""Webhook requests through the ASGI application, as daphne hands them over: the one way in.

`post` signs a delivery and answers like a test client's response; `request` sends any method,
headers and body chunks. Both go through `assistant.asgi.application`, so the endpoint's Host
check, body cap and headers apply as in production (daphne's own read limits aside:
tests/integration/test_http_edge.py covers those).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from asgiref.sync import async_to_sync
from asgiref.testing import ApplicationCommunicator

from assistant.asgi import WEBHOOK_PATH, application
from rtms_ingest.protocol.webhook_signing import webhook_signature

URL = WEBHOOK_PATH
SECRET = "test-webhook-secret"  # ZOOM_WEBHOOK_SECRET_TOKEN in the test settings
Headers = list[tuple[bytes, bytes]]


@dataclass(frozen=True)
class Response:
    """An answer of the application: status, headers (lower-case names) and body."""

    status_code: int
    headers: dict[bytes, bytes]
    content: bytes

    def json(self) -> Any:
        return json.loads(self.content)


def scope(path: str, headers: Headers, method: str = "POST") -> dict[str, Any]:
    """An HTTP scope as daphne builds it, from 127.0.0.1 (an allowed host) unless `headers` say."""
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1"), *headers],
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 8000),
    }


async def answer(request: dict[str, Any], chunks: list[bytes], timeout_s: float = 10.0) -> Response:
    """Send `request` with its body in `chunks`; the whole answer, once the application is done."""
    app = ApplicationCommunicator(application, request)
    for i, chunk in enumerate(chunks):
        await app.send_input(
            {"type": "http.request", "body": chunk, "more_body": i < len(chunks) - 1}
        )
    start = await app.receive_output(timeout=timeout_s)
    content = b""
    while True:
        part = await app.receive_output(timeout=timeout_s)
        content += part.get("body", b"")
        if not part.get("more_body", False):
            break
    await app.wait(timeout=timeout_s)
    return Response(int(start["status"]), dict(start["headers"]), content)


async def request(
    path: str, chunks: list[bytes], headers: Headers, method: str = "POST"
) -> Response:
    """Any request to the application."""
    return await answer(scope(path, headers, method), chunks)


async def status_of(path: str, chunks: list[bytes], headers: Headers) -> int:
    """The status of a POST to `path` with its body in `chunks`."""
    return (await request(path, chunks, headers)).status_code


def signed_headers(
    raw: bytes, *, secret: str = SECRET, timestamp: int | None = None, signature: str | None = None
) -> dict[str, str]:
    """Zoom's signature headers over `raw` (now, unless `timestamp`; forged with `signature`)."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    return {
        "x-zm-request-timestamp": ts,
        "x-zm-signature": signature or webhook_signature(secret, ts, raw),
    }


async def apost(
    body: bytes | dict[str, Any],
    *,
    secret: str = SECRET,
    timestamp: int | None = None,
    signature: str | None = None,
    signed: bool = True,
) -> Response:
    """POST one delivery to the webhook, signed unless `signed` is False."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers: Headers = [(b"content-type", b"application/json")]
    if signed:
        zoom = signed_headers(raw, secret=secret, timestamp=timestamp, signature=signature)
        headers += [(name.encode(), value.encode()) for name, value in zoom.items()]
    return await request(URL, [raw], headers)


def post(
    body: bytes | dict[str, Any],
    *,
    secret: str = SECRET,
    timestamp: int | None = None,
    signature: str | None = None,
    signed: bool = True,
) -> Response:
    """`apost` from synchronous code, on an event loop of its own (as Django's test client did)."""
    return async_to_sync(apost)(
        body, secret=secret, timestamp=timestamp, signature=signature, signed=signed
    )
