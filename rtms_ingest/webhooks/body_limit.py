"""ASGI middleware: refuse an oversized request body on one path before anything buffers it."""

from __future__ import annotations

import json
from typing import Any

from asgiref.typing import (
    ASGIReceiveCallable,
    ASGIReceiveEvent,
    ASGISendCallable,
    HTTPRequestEvent,
    HTTPResponseBodyEvent,
    HTTPResponseStartEvent,
)

Scope = dict[str, Any]


class BodySizeLimit:
    """Answers 413 once a body on `path` passes `max_bytes`, read chunk by chunk, at most once.

    Django spools a whole body to memory or disk before a view sees it; an unauthenticated
    sender could make it store anything. Here the body is counted as it arrives and at most
    max_bytes are kept, then replayed to the app in one piece.
    """

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
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await _refuse(send)
            return
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            if message["type"] != "http.request":
                break  # nothing else comes on an HTTP scope; no more body to count
            body += message.get("body", b"")
            if len(body) > self.max_bytes:
                await _refuse(send)
                return
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> ASGIReceiveEvent:
            nonlocal replayed
            if not replayed:
                replayed = True
                return HTTPRequestEvent(type="http.request", body=bytes(body), more_body=False)
            return await receive()

        await self.app(scope, replay, send)


async def _refuse(send: ASGISendCallable) -> None:
    payload = json.dumps({"error": "request body too large"}).encode()
    await send(
        HTTPResponseStartEvent(
            type="http.response.start",
            status=413,
            headers=[(b"content-type", b"application/json"), (b"connection", b"close")],
            trailers=False,
        )
    )
    await send(HTTPResponseBodyEvent(type="http.response.body", body=payload, more_body=False))
