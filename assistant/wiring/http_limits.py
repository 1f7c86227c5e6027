"""What the web process (daphne, on Twisted) reads of a request: a body cap per path, a deadline.

Twisted reads a whole request body (to a temporary file past 100 kB) before daphne hands it to
the application, so a limit in the application acts only once the upload has ended: a 4 GB
chunked POST to any path would fill the disk first, and a client sending its headers or body a
byte a minute would hold a connection for ever (Twisted's idle timeout restarts with each byte).
Applied when `assistant.asgi` is imported, like the tuning in `web_process`:

- a declared Content-Length over the path's cap is answered 413 as soon as the headers end,
  before any of the body is read; a chunked body is cut (413, connection closed) at the cap;
  what is accepted is kept in memory, never in a temporary file (it is bounded);
- a request must arrive whole (request line, headers and body) within `read_timeout_s` of its
  first byte, or it is answered 408 and the connection closed.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from io import BytesIO
from typing import Any
from urllib.parse import unquote

__all__ = ["APPLICATION_TIMEOUT_S", "BodyLimits", "limit_request_reading"]

log = logging.getLogger(__name__)

# daphne's --http-timeout, in every command that starts the web process (Dockerfile, compose,
# Procfile; run_demo passes it): an answer not begun this long after the request arrived is
# 503, so a stuck view cannot hold a connection for ever. It counts from the body's end, and
# would also cut a response still streaming then (the app streams none; exports are rendered
# whole).
APPLICATION_TIMEOUT_S = 60


@dataclass(frozen=True)
class BodyLimits:
    """The most bytes of body a request may carry: per path, else `default`."""

    default: int
    by_path: Mapping[str, int] = field(default_factory=dict)

    def for_path(self, raw_path: bytes) -> int:
        """The cap for a request line's target (query string ignored, %-escapes decoded)."""
        path = unquote(raw_path.split(b"?", 1)[0].decode("latin-1"))
        return self.by_path.get(path, self.default)


def _answer(status: str, body: dict[str, str]) -> bytes:
    payload = json.dumps(body).encode()
    head = (
        f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(payload)}\r\nConnection: close\r\n\r\n"
    )
    return head.encode() + payload


TOO_LARGE = _answer("413 Content Too Large", {"error": "request body too large"})
TIMED_OUT = _answer("408 Request Timeout", {"error": "request not received in time"})


def limit_request_reading(limits: BodyLimits, read_timeout_s: float) -> None:
    """Make daphne's Twisted channels and requests enforce `limits` and the read deadline."""
    from daphne import http_protocol
    from twisted.internet.protocol import connectionDone
    from twisted.python.failure import Failure
    from twisted.web.http import HTTPChannel, _GenericHTTPChannelProtocol

    if getattr(http_protocol.WebRequest, "limits_bodies", False):
        return
    daphne_request: Any = http_protocol.WebRequest

    class WebRequest(daphne_request):
        """daphne's request, whose body is capped while it is read and kept in memory."""

        limits_bodies = True
        _body_limit = 0
        _refused = False

        def gotLength(self, length: int | None) -> None:
            # Called once the headers are in; the request line's target is the channel's.
            self._body_limit = limits.for_path(getattr(self.channel, "_path", b""))
            self.content = BytesIO()
            if length is not None and length > self._body_limit:
                self._refuse_body(f"declared {length} bytes")

        def handleContentChunk(self, data: bytes) -> None:
            if self._refused:
                return
            if self.content.tell() + len(data) > self._body_limit:
                self._refuse_body(f"over {self._body_limit} bytes received")
                return
            self.content.write(data)

        def requestReceived(self, command: bytes, path: bytes, version: bytes) -> None:
            # A refused body may still end in the bytes already read: it is never served.
            if not self._refused:
                super().requestReceived(command, path, version)

        def _refuse_body(self, why: str) -> None:
            self._refused = True
            log.info("request body refused (413): %s, the cap is %d", why, self._body_limit)
            # Else Twisted would answer "100 Continue" after this, to a client that asked.
            self.requestHeaders.removeHeader(b"expect")
            self.channel.persistent = False
            self.channel.transport.write(TOO_LARGE)
            self.channel.loseConnection()  # stops reading at once

    class DeadlineChannel(HTTPChannel):
        """Twisted's HTTP/1.1 channel, which gives each request `read_timeout_s` to arrive."""

        _read_deadline: Any = None

        def dataReceived(self, data: bytes) -> None:
            # The first byte of a request starts its clock (bytes sent while a request is being
            # answered belong to the next one, which is read once the answer is out).
            if self._read_deadline is None and not self._handlingRequest:
                self._read_deadline = self.callLater(read_timeout_s, self._read_timed_out)
            super().dataReceived(data)

        def allContentReceived(self) -> None:
            self._cancel_read_deadline()
            super().allContentReceived()

        def connectionLost(self, reason: Failure = connectionDone) -> None:
            self._cancel_read_deadline()
            super().connectionLost(reason)

        def _cancel_read_deadline(self) -> None:
            if self._read_deadline is not None:
                if self._read_deadline.active():
                    self._read_deadline.cancel()
                self._read_deadline = None

        def _read_timed_out(self) -> None:
            self._read_deadline = None
            log.info("request not received within %s s: 408", read_timeout_s)
            transport: Any = self.transport
            transport.write(TIMED_OUT)
            # Closes, and aborts the connection if the client does not let it go.
            self.timeoutConnection()

    def channel_protocol(factory: Any) -> Any:
        return _GenericHTTPChannelProtocol(DeadlineChannel())

    # daphne's HTTPFactory.buildProtocol reads both for each connection (Twisted's factory
    # calls `self.protocol()`; daphne then sets the module's WebRequest as its request class).
    http_protocol.WebRequest = WebRequest
    http_protocol.HTTPFactory.protocol = channel_protocol
