"""One RTMS WebSocket of the client: typed send/receive, keep-alives, silence watchdog, stats."""

from __future__ import annotations

import asyncio
import logging
import ssl
import time
from collections import Counter
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import TypeVar

from websockets.asyncio.client import ClientConnection, connect

from rtms_ingest.protocol import (
    KeepAliveRequest,
    Message,
    ProtocolError,
    UnknownMessage,
    encode_message,
    parse_message,
)

__all__ = [
    "ClientStats",
    "FrameChannel",
    "HandshakeRejected",
    "LogThrottle",
    "SocketSettings",
    "SocketSilent",
    "expect",
    "run_until",
]

log = logging.getLogger("rtms_ingest.client")

_T = TypeVar("_T")
_M = TypeVar("_M", bound=Message)

# Zoom's frames are small JSON, but a video/deskshare frame or a burst of base64 audio can be
# large; 16 MiB leaves room without letting one peer make us buffer without bound.
MAX_FRAME_BYTES = 16 * 1024 * 1024
OPEN_TIMEOUT_S = 10.0
CLOSE_TIMEOUT_S = 2.0


@dataclass
class ClientStats:
    """Counters of one stream client, for logs, metrics and tests."""

    frames: Counter[int] = field(default_factory=Counter)  # parsed frames by msg_type
    malformed_frames: int = 0  # ProtocolError: skipped
    unknown_frames: int = 0  # a msg_type we do not model: skipped
    audio_frames: int = 0
    audio_bytes: int = 0
    keepalives_answered: int = 0
    reconnects: int = 0  # signaling (whole stream) reconnection attempts
    media_reconnects: int = 0  # single media socket reconnection attempts
    sink_errors: int = 0  # exceptions raised by the sink, logged and swallowed


class LogThrottle:
    """Allows one log line per key per interval, and counts the lines it held back."""

    def __init__(self, interval_s: float = 10.0) -> None:
        self._interval_s = interval_s
        self._last: dict[str, float] = {}
        self._held: Counter[str] = Counter()

    def allow(self, key: str) -> int | None:
        """None if this line should be dropped, else how many were dropped since the last one."""
        now = time.monotonic()
        last = self._last.get(key)
        if last is not None and now - last < self._interval_s:
            self._held[key] += 1
            return None
        self._last[key] = now
        return self._held.pop(key, 0)


class HandshakeRejected(Exception):
    """RTMS refused a handshake (non-zero status_code, or no answer at all): fatal, no retry.

    status_code is None when the server gave no status (e.g. it closed the socket after our
    request, which is how real Zoom answers a bad signature).
    """

    def __init__(self, status_code: int | None, reason: str, socket: str = "signaling") -> None:
        code = "no status" if status_code is None else f"status {status_code}"
        super().__init__(f"{socket} handshake rejected ({code}): {reason or 'no reason given'}")
        self.status_code = status_code
        self.reason = reason
        self.socket = socket


class SocketSilent(TimeoutError):
    """Nothing, not even a keep-alive, arrived on a socket for longer than the timeout."""


class FrameChannel:
    """Parsed RTMS messages over one connection; answers keep-alives and skips bad frames."""

    def __init__(
        self,
        ws: ClientConnection,
        name: str,
        stats: ClientStats,
        throttle: LogThrottle,
        silence_timeout_s: float,
    ) -> None:
        self.ws = ws
        self.name = name
        self._stats = stats
        self._throttle = throttle
        self._silence_timeout_s = silence_timeout_s

    async def send(self, message: Message) -> None:
        """Send one message as a text frame (Zoom accepts text and binary alike)."""
        await self.ws.send(encode_message(message))

    async def receive(self) -> Message:
        """The next meaningful message; ConnectionClosed or SocketSilent when the socket dies."""
        while True:
            try:
                async with asyncio.timeout(self._silence_timeout_s):
                    frame = await self.ws.recv()
            except TimeoutError:
                raise SocketSilent(
                    f"{self.name} silent for {self._silence_timeout_s:g} s"
                ) from None
            message = self._parse(frame)
            if message is None:
                continue
            if isinstance(message, KeepAliveRequest):
                await self.send(message.answer())
                self._stats.keepalives_answered += 1
                continue
            return message

    def _parse(self, frame: str | bytes) -> Message | None:
        """Parse a frame, counting it; None for frames that are skipped."""
        try:
            message = parse_message(frame)
        except ProtocolError as exc:
            self._stats.malformed_frames += 1
            # exc names the field and the problem, never the payload: transcripts are private.
            self._log_skip(logging.WARNING, "malformed", exc)
            return None
        if isinstance(message, UnknownMessage):
            self._stats.unknown_frames += 1
            self._log_skip(logging.INFO, "unknown", f"msg_type {message.msg_type}")
            return None
        self._stats.frames[type(message).MSG_TYPE] += 1
        return message

    def _log_skip(self, level: int, kind: str, detail: object) -> None:
        """Log a skipped frame, at most once per throttle interval per socket and kind."""
        held = self._throttle.allow(f"{kind}:{self.name}")
        if held is not None:
            log.log(
                level,
                "%s frame on %s skipped: %s (%d more since the last report)",
                kind,
                self.name,
                detail,
                held,
            )


@dataclass(frozen=True)
class SocketSettings:
    """How the client opens and watches its sockets (shared by signaling and media)."""

    ssl_context: ssl.SSLContext | None
    user_agent: str
    silence_timeout_s: float
    handshake_timeout_s: float
    backoff_initial_s: float
    backoff_max_s: float
    reconnect_window_s: float

    def open(self, url: str) -> connect:
        """A `connect` for one RTMS socket: `async with settings.open(url) as ws`."""
        return connect(
            url,
            # TLS settings only make sense for wss://; websockets refuses `ssl` with ws://.
            ssl=self.ssl_context if url.startswith("wss://") else None,
            user_agent_header=self.user_agent,
            open_timeout=OPEN_TIMEOUT_S,
            close_timeout=CLOSE_TIMEOUT_S,
            max_size=MAX_FRAME_BYTES,
            # RTMS has its own keep-alives (and we watch for silence); a server that ignores
            # WebSocket pings must not get its healthy stream dropped by ours.
            ping_interval=None,
            # Nothing says Zoom's RTMS servers negotiate permessage-deflate; keep it simple.
            compression=None,
        )

    def channel(
        self, ws: ClientConnection, name: str, stats: ClientStats, throttle: LogThrottle
    ) -> FrameChannel:
        """Wrap an open connection in a FrameChannel with this silence timeout."""
        return FrameChannel(ws, name, stats, throttle, self.silence_timeout_s)


async def expect(channel: FrameChannel, kind: type[_M], timeout_s: float) -> _M:
    """Receive until a message of `kind` arrives (others are logged and dropped)."""
    async with asyncio.timeout(timeout_s):
        while True:
            message = await channel.receive()
            if isinstance(message, kind):
                return message
            log.debug(
                "%s: msg_type %s before the handshake answer, dropped",
                channel.name,
                type(message).MSG_TYPE,
            )


async def run_until(work: Awaitable[_T], event: asyncio.Event) -> tuple[bool, _T | None]:
    """Run `work` until it finishes (True, result) or `event` is set first (False, None).

    When the event wins, `work` is cancelled and awaited, so its sockets are closed before
    this returns. Exceptions of `work` propagate.
    """
    task = asyncio.ensure_future(work)
    waiter = asyncio.ensure_future(event.wait())
    try:
        await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        waiter.cancel()
        if not task.done():
            task.cancel()
        # Wait for the cancelled work to unwind (closing sockets) even if we were cancelled.
        await asyncio.gather(task, waiter, return_exceptions=True)
    if task.cancelled():
        return False, None
    return True, task.result()
