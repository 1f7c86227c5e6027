"""One RTMS WebSocket on picows: open it, send text, and hand over each message as it is read.

picows parses WebSocket frames in compiled code and calls us once per frame from the read that
took it off the socket, with no queue, future or task in between. That is most of what a small
audio frame costs in a pure-Python WebSocket library, and an ingest reads 200 such frames a
second per four-speaker meeting. picows leaves two things to its user, done here: joining a
fragmented message (bounded like a frame) and answering the peer's close.

No Django, no RTMS: bytes in, bytes out. `FrameChannel` (channel.py) gives the bytes meaning.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from collections.abc import AsyncIterator, Callable
from functools import partial

from picows import (
    WSCloseCode,
    WSError,
    WSFrame,
    WSHandshakeError,
    WSInvalidStatusError,
    WSListener,
    WSMsgType,
    WSTransport,
    ws_connect,
)

__all__ = ["RtmsSocket", "SocketClosed", "UpgradeRefused", "open_socket"]

log = logging.getLogger("rtms_ingest.client")

_TEXT, _BINARY, _CONTINUATION = WSMsgType.TEXT, WSMsgType.BINARY, WSMsgType.CONTINUATION
_CLOSE = WSMsgType.CLOSE

MessageHandler = Callable[[bytes], None]
CloseHandler = Callable[["SocketClosed"], None]


class SocketClosed(ConnectionError):
    """The socket is closed: by a close frame (`code`, `reason`) or without one (`code` None)."""

    def __init__(self, code: int | None = None, reason: str = "") -> None:
        self.code = code
        self.reason = reason
        said = "no close frame" if code is None else f"close code {code}"
        super().__init__(f"socket closed ({said}{': ' + reason if reason else ''})")


class UpgradeRefused(Exception):
    """The server did not switch to WebSocket: an HTTP `status`, or None for no valid answer."""

    def __init__(self, status: int | None, detail: str) -> None:
        super().__init__(
            f"WebSocket upgrade refused ({'HTTP ' + str(status) if status else 'no HTTP status'})"
            f": {detail}"
        )
        self.status = status


class RtmsSocket(WSListener):
    """One client WebSocket; each whole message goes to the handler given to `attach`.

    Messages that arrive before `attach` are kept and handed over then; after `detach` they
    are dropped (the reader stopped). Pings are answered by picows; a close frame is answered
    here and the socket then closed.
    """

    def __init__(self, max_message_bytes: int) -> None:
        super().__init__()
        self.transport: WSTransport | None = None
        self.closed: SocketClosed | None = None  # set once the connection is gone
        self._max_message_bytes = max_message_bytes
        self._on_message: MessageHandler | None = None
        self._on_close: CloseHandler | None = None
        self._early: list[bytes] | None = []
        self._fragments: list[bytes] | None = None
        self._fragment_bytes = 0

    # --- the consumer's side --------------------------------------------------------------

    def attach(self, on_message: MessageHandler, on_close: CloseHandler) -> None:
        """Send every message to `on_message` (those already here first), and the close."""
        self._on_message, self._on_close = on_message, on_close
        early, self._early = self._early or [], None
        for data in early:
            on_message(data)
        if self.closed is not None:
            on_close(self.closed)

    def detach(self) -> None:
        """Hand nothing more to the handlers."""
        self._on_message = self._on_close = None
        self._early = None

    def send(self, data: bytes) -> None:
        """Queue one text frame for sending; SocketClosed once the socket is closing."""
        transport = self.transport
        if transport is None or transport.is_close_frame_sent or transport.is_disconnected:
            raise self.closed or SocketClosed(reason="closing")
        transport.send(_TEXT, data)

    def abort(self) -> None:
        """Drop the connection now (no close handshake)."""
        if self.transport is not None:
            self.transport.disconnect(graceful=False)

    async def close(self, timeout_s: float) -> None:
        """Close politely (close frame, code 1000), or abort after `timeout_s`."""
        transport = self.transport
        if transport is None or transport.is_disconnected:
            return
        if not transport.is_close_frame_sent:
            transport.send_close(WSCloseCode.OK)
        # The server answers our close frame and closes; we close our end if it does not.
        transport.disconnect()
        try:
            async with asyncio.timeout(timeout_s):
                await transport.wait_disconnected()
        except TimeoutError:
            transport.disconnect(graceful=False)
        except WSError:  # a protocol error picows met earlier, re-raised: the socket is gone
            pass

    # --- picows' callbacks ------------------------------------------------------------------

    def on_ws_connected(self, transport: WSTransport) -> None:
        self.transport = transport

    def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
        kind = frame.msg_type
        if kind is _TEXT or kind is _BINARY:
            if frame.fin and self._fragments is None:
                if self._on_message is not None:  # the usual case, without a call more
                    self._on_message(frame.get_payload_as_bytes())
                else:
                    self._deliver(frame.get_payload_as_bytes())
            else:
                self._start_fragments(transport, frame)
        elif kind is _CONTINUATION:
            self._continue_fragments(transport, frame)
        elif kind is _CLOSE:
            # Echo the peer's close, then close the TCP connection (RFC 6455 §5.5.1).
            if not transport.is_close_frame_sent:
                transport.send_close(frame.get_close_code())
            transport.disconnect()

    def on_ws_disconnected(self, transport: WSTransport) -> None:
        handshake = transport.close_handshake
        received = handshake.recv if handshake is not None else None
        if received is None:
            self.closed = SocketClosed()
        else:
            self.closed = SocketClosed(_close_code(received.code), received.reason)
        if self._on_close is not None:
            self._on_close(self.closed)

    # --- messages ---------------------------------------------------------------------------

    def _deliver(self, data: bytes) -> None:
        if self._on_message is not None:
            self._on_message(data)
        elif self._early is not None:
            self._early.append(data)

    def _start_fragments(self, transport: WSTransport, frame: WSFrame) -> None:
        if self._fragments is not None:
            self._protocol_error(transport, "a new message began inside a fragmented one")
            return
        self._fragments = [frame.get_payload_as_bytes()]
        self._fragment_bytes = frame.payload_size

    def _continue_fragments(self, transport: WSTransport, frame: WSFrame) -> None:
        if self._fragments is None:
            self._protocol_error(transport, "a continuation frame without a message")
            return
        self._fragment_bytes += frame.payload_size
        if self._fragment_bytes > self._max_message_bytes:
            self._fragments = None
            transport.send_close(WSCloseCode.MESSAGE_TOO_BIG)
            transport.disconnect()
            return
        self._fragments.append(frame.get_payload_as_bytes())
        if frame.fin:
            data, self._fragments = b"".join(self._fragments), None
            self._deliver(data)

    def _protocol_error(self, transport: WSTransport, detail: str) -> None:
        log.warning("WebSocket protocol error from the server: %s; closing", detail)
        self._fragments = None
        transport.send_close(WSCloseCode.PROTOCOL_ERROR)
        transport.disconnect()


def _close_code(code: WSCloseCode | int) -> int:
    """A close code as a number (picows gives its enum for the registered ones)."""
    return code.value if isinstance(code, WSCloseCode) else int(code)


@contextlib.asynccontextmanager
async def open_socket(
    url: str,
    *,
    ssl_context: ssl.SSLContext | None,
    user_agent: str,
    open_timeout_s: float,
    close_timeout_s: float,
    max_message_bytes: int,
) -> AsyncIterator[RtmsSocket]:
    """An open RtmsSocket to `url`, closed politely on the way out.

    UpgradeRefused when the server answers the upgrade with anything but 101; OSError
    (SocketClosed included) and TimeoutError as the connection fails.
    """
    try:
        async with asyncio.timeout(open_timeout_s):
            _, socket = await ws_connect(
                partial(RtmsSocket, max_message_bytes),
                url,
                ssl_context=ssl_context if url.startswith("wss://") else None,
                websocket_handshake_timeout=open_timeout_s,
                logger_name="rtms",  # picows logs as picows.rtms
                # RTMS has its own keep-alives (and we watch for silence); a server that
                # ignores WebSocket pings must not get its healthy stream dropped by ours.
                enable_auto_ping=False,
                enable_auto_pong=True,
                max_frame_size=max_message_bytes,
                extra_headers={"User-Agent": user_agent},
                max_redirects=0,
            )
    except WSInvalidStatusError as exc:
        status = exc.response.status if exc.response is not None else None
        raise UpgradeRefused(int(status) if status else None, str(exc)) from exc
    except WSHandshakeError as exc:
        raise UpgradeRefused(None, str(exc)) from exc
    if not isinstance(socket, RtmsSocket):
        # picows answers a connection closed during the upgrade with no listener at all.
        raise SocketClosed(reason="the server closed the connection during the upgrade")
    try:
        yield socket
    finally:
        await socket.close(close_timeout_s)
