"""The Zoom webhook served at the ASGI edge: no middleware chain, no thread per request.

A webhook is a signed machine request; browser concerns (sessions, CSRF, static files) do not
apply to it. Served here, a delivery costs the Host check, the signature check, one insert on a
kept connection and one Redis push, and Django's per-request machinery (about two dozen
middleware steps and a thread hop for each request signal) is skipped. What of that machinery
still matters for a JSON API (the Host check against ALLOWED_HOSTS, the security headers) is
done in `edge_http` from the same settings. This is the webhook's one way in (Django routes no
URL to it): other methods on the path are answered 405 here, and every other path goes to the
wrapped application.

The body cap (`ZOOM_WEBHOOK_MAX_BODY_BYTES`) is enforced here as the body arrives, on every way
the application is served (daphne, the embedded shape, tests through the ASGI application);
under daphne, `assistant.wiring.http_limits` also enforces it while Twisted reads the request.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import orjson
from asgiref.typing import (
    ASGIReceiveCallable,
    ASGISendCallable,
    HTTPResponseBodyEvent,
    HTTPResponseStartEvent,
)

from rtms_ingest.webhooks.edge_http import disallowed_host, security_headers, security_log
from rtms_ingest.webhooks.metrics import WEBHOOK_LATENCY
from rtms_ingest.webhooks.receiver import Answer, is_decimal, receive_delivery

__all__ = ["ZoomWebhookEndpoint"]

log = logging.getLogger(__name__)
Scope = dict[str, Any]


class ZoomWebhookEndpoint:
    """Answers `path` itself (POST, its body capped at `max_bytes`); other paths go to `app`."""

    def __init__(self, app: Any, path: str, max_bytes: int) -> None:
        self.app = app
        self.path = path
        self.max_bytes = max_bytes

    async def __call__(
        self, scope: Scope, receive: ASGIReceiveCallable, send: ASGISendCallable
    ) -> None:
        if scope["type"] != "http" or scope["path"] != self.path:
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        extra = security_headers(scope, headers)
        refusal = disallowed_host(scope, headers)
        if refusal:
            security_log.warning(refusal)
            await _respond(send, Answer(400, {"error": "invalid Host header"}), extra)
            return
        if scope["method"] != "POST":
            # As Django's require_POST answered: no body, and the one method allowed.
            await _respond(send, Answer(405, None), [*extra, (b"allow", b"POST")])
            return
        declared = headers.get("content-length")
        if declared is not None and not is_decimal(declared):
            await _respond(send, Answer(400, {"error": "malformed Content-Length"}), extra)
            return
        if declared is not None and int(declared) > self.max_bytes:
            await _respond(send, _too_large(), extra)
            return
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            if message["type"] != "http.request":
                break
            body += message.get("body", b"")
            if len(body) > self.max_bytes:
                await _respond(send, _too_large(), extra)
                return
            if not message.get("more_body", False):
                break
        try:
            answer = await receive_delivery(headers, bytes(body))
        except Exception:
            # The database or Redis failed: Zoom retries a 5xx; 503 says "later", not "bad".
            log.exception("webhook delivery failed")
            answer = Answer(503, {"error": "temporarily unavailable; retry later"})
        await _respond(send, answer, extra)
        WEBHOOK_LATENCY.observe(time.perf_counter() - started)


def _too_large() -> Answer:
    return Answer(413, {"error": "request body too large"})


async def _respond(
    send: ASGISendCallable, answer: Answer, extra: list[tuple[bytes, bytes]]
) -> None:
    payload = b"" if answer.body is None else orjson.dumps(answer.body)
    headers = [(b"content-length", str(len(payload)).encode()), *extra]
    if answer.body is not None:
        headers.append((b"content-type", b"application/json"))
    if answer.status == 413:
        headers.append((b"connection", b"close"))
    await send(
        HTTPResponseStartEvent(
            type="http.response.start", status=answer.status, headers=headers, trailers=False
        )
    )
    await send(HTTPResponseBodyEvent(type="http.response.body", body=payload, more_body=False))
