"""One RTMS WebSocket of the client: typed send/receive, keep-alives, silence watchdog, stats."""

from __future__ import annotations

import asyncio
import logging
import ssl
import time
from bisect import bisect_left
from collections import Counter, deque
from collections.abc import Awaitable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import TypeVar
from weakref import WeakSet

from rtms_ingest.client.url_policy import UrlPolicy
from rtms_ingest.client.wire import RtmsSocket, SocketClosed, open_socket
from rtms_ingest.protocol import (
    KeepAliveRequest,
    Message,
    ProtocolError,
    UnknownMessage,
)
from rtms_ingest.protocol.fast import parse_frame
from rtms_ingest.protocol.messages import encode_message_bytes

__all__ = [
    "ClientStats",
    "DelayHistogram",
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


# Upper bounds (seconds) of the keep-alive delay buckets. Zoom drops a socket after about 60 s
# of unanswered keep-alives; anything past a second already means an overloaded ingest.
KEEPALIVE_DELAY_BOUNDS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


@dataclass
class DelayHistogram:
    """Delays counted in buckets by upper bound (the last bucket is past every bound)."""

    bounds: tuple[float, ...] = KEEPALIVE_DELAY_BOUNDS
    counts: list[int] = field(default_factory=list)
    sum_s: float = 0.0

    def __post_init__(self) -> None:
        if not self.counts:
            self.counts = [0] * (len(self.bounds) + 1)

    def observe(self, seconds: float) -> None:
        self.counts[bisect_left(self.bounds, seconds)] += 1
        self.sum_s += seconds

    def add(self, other: DelayHistogram) -> None:
        """Add `other`'s counts (same bounds) to these."""
        pairs = zip(self.counts, other.counts, strict=True)
        self.counts = [mine + theirs for mine, theirs in pairs]
        self.sum_s += other.sum_s

    @property
    def count(self) -> int:
        return sum(self.counts)


@dataclass
class ClientStats:
    """Counters of one stream client, for logs, metrics and tests."""

    frames: Counter[int] = field(default_factory=Counter)  # parsed frames by msg_type
    malformed_frames: int = 0  # ProtocolError: skipped
    unknown_frames: int = 0  # a msg_type we do not model: skipped
    audio_frames: int = 0
    audio_bytes: int = 0
    chat_group_events: int = 0  # EVENT_UPDATE 10-14 (reference §7): logged, not stored
    share_frames: int = 0  # MEDIA_DATA_SHARE frames handed to the sink
    video_frames: int = 0  # MEDIA_DATA_VIDEO frames handed to the sink
    odd_lengths: int = 0  # audio frames whose `length` (reference §7) is not their size: kept
    keepalives_answered: int = 0
    reconnects: int = 0  # signaling (whole stream) reconnection attempts
    media_reconnects: int = 0  # single media socket reconnection attempts
    sink_errors: int = 0  # exceptions raised by the sink, logged and swallowed
    frames_dropped: int = 0  # data frames dropped because a media backlog was full
    frames_discarded: int = 0  # frames read but never delivered (the end came first)
    drops_unreported: int = (
        0  # dropped frames not yet in a gap (the stream reports them at its end)
    )
    gaps_recorded: int = 0  # gaps reported to the sink for dropped or discarded frames
    # From Zoom's keep-alive timestamp to our answer: network, backlog and clock difference.
    keepalive_delay: DelayHistogram = field(default_factory=DelayHistogram)
    # The open channels of the stream, for the bytes waiting in their backlogs.
    channels: WeakSet[FrameChannel] = field(default_factory=WeakSet)

    def backlog_bytes(self) -> int:
        """Data frames' bytes read off the stream's sockets and not yet delivered."""
        return sum(channel.backlog_bytes for channel in list(self.channels))


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


# Keep-alives and other control messages are tiny (about 60 bytes); audio frames are not (20 ms
# of 16 kHz PCM is 856 base64 characters). The reader parses only frames up to this size.
CONTROL_FRAME_MAX = 512
# A consumer that keeps finding messages waiting never suspends in receive(); it is given
# them in batches of at most this many, and the event loop a turn after each full batch, so
# that the sockets (and their keep-alives) are read on time however long a backlog takes.
YIELD_EVERY = 32
# The silence watchdog looks this many times per timeout for a frame since its last look: a
# flag set per frame costs less than reading the clock per frame. A socket is called silent
# between one and 1 + 1/SILENCE_LOOKS timeouts after its last frame.
SILENCE_LOOKS = 4


class _Dropped:
    """A place in the backlog where frames were dropped because it was full."""

    __slots__ = ("count",)

    def __init__(self, count: int) -> None:
        self.count = count


_Item = Message | bytes | _Dropped


class FrameChannel:
    """Parsed RTMS messages over one socket; control first, data through a bounded backlog.

    Each frame is taken as the socket's read hands it over, and keep-alives are answered in
    that same call, whatever the backlog and however slow the consumer of `receive()`: Zoom
    drops a stream whose keep-alives go unanswered. Data frames wait in a backlog, unparsed;
    with `backlog_bytes` set (media sockets) a full backlog drops new data frames, and the
    place of the drop is counted and handed to the consumer (`take_drops`) so it can record a
    gap. Liveness comes from one timer per socket on the time of the last frame, not from a
    timeout around every receive.
    """

    def __init__(
        self,
        sock: RtmsSocket,
        name: str,
        stats: ClientStats,
        throttle: LogThrottle,
        silence_timeout_s: float,
        backlog_bytes: int | None = None,
    ) -> None:
        self.sock = sock
        self.name = name
        self._stats = stats
        self._throttle = throttle
        self._silence_timeout_s = silence_timeout_s
        self._backlog_bytes = backlog_bytes
        self._items: deque[_Item] = deque()
        self._bytes = 0
        self._dropping: _Dropped | None = None  # the drop marker being counted up
        self._drops = 0  # dropped frames the consumer has reached but not yet taken
        self._wakeup = asyncio.Event()
        self._ended: BaseException | None = None  # why the socket stopped
        self._silent = False
        self._streak = 0  # messages in the last batch, when more were waiting after it
        loop = asyncio.get_running_loop()
        self._loop = loop
        self._heard = False  # a frame arrived since the watchdog's last look
        self._quiet_looks = 0  # the watchdog's looks in a row that found nothing
        self._timer = loop.call_later(silence_timeout_s / SILENCE_LOOKS, self._check_silence)
        stats.channels.add(self)
        sock.attach(self._on_frame, self._on_closed)

    async def send(self, message: Message) -> None:
        """Send one message as a text frame; SocketClosed if the socket is closing."""
        self.sock.send(encode_message_bytes(message))

    async def receive(self) -> Message:
        """The next meaningful message; SocketClosed or SocketSilent when the socket dies.

        Frames already taken off the socket are delivered before the socket's end is raised:
        what the server sent before closing is read, not thrown away.
        """
        return (await self.receive_many(1))[0]

    async def receive_many(self, limit: int = YIELD_EVERY) -> list[Message]:
        """The next meaningful messages waiting, at least one and at most `limit`.

        Frames dropped from the backlog (`drops`) are always before the first message
        returned: a batch ends where drops were counted. Like `receive`, it raises the
        socket's end only once everything read before it was returned. After a full batch
        the event loop gets a turn first, so that a consumer working through a backlog does
        not keep the sockets (and their keep-alives) waiting.
        """
        if self._streak >= limit:
            self._streak = 0
            await asyncio.sleep(0)
        items = self._items
        batch: list[Message] = []
        while not batch:
            while not items:
                if self._ended is not None:
                    raise self._ended
                self._wakeup.clear()
                await self._wakeup.wait()
            while items and len(batch) < limit:
                item = items[0]
                if type(item) is _Dropped:
                    if batch:
                        break  # its drops come before the next batch's first message
                    if item is self._dropping:
                        self._dropping = None
                    self._drops += item.count
                elif type(item) is bytes:
                    self._bytes -= len(item)
                    message = self._parse(item)
                    if message is not None:
                        batch.append(message)
                else:
                    batch.append(item)  # type: ignore[arg-type]  # control, parsed on arrival
                items.popleft()
        self._streak = len(batch) if items else 0
        return batch

    @property
    def backlog_bytes(self) -> int:
        """Bytes of data frames waiting to be delivered."""
        return self._bytes

    @property
    def drops(self) -> int:
        """Frames dropped just before the message `receive()` returned last, not yet taken."""
        return self._drops

    def take_drops(self) -> int:
        """Frames dropped just before the message `receive()` returned last (then zero)."""
        drops, self._drops = self._drops, 0
        return drops

    def discard(self) -> tuple[int, int]:
        """Stop; (frames read but never delivered, dropped frames never taken), then zero."""
        self.stop()
        undelivered, drops = 0, self._drops
        for item in self._items:
            if isinstance(item, _Dropped):
                drops += item.count
            else:
                undelivered += 1
        self._items.clear()
        self._bytes = 0
        self._drops = 0
        return undelivered, drops

    def stop(self) -> None:
        """Stop reading (the socket itself is closed by its owner)."""
        self._timer.cancel()
        self.sock.detach()
        self._stats.channels.discard(self)

    def _on_frame(self, frame: bytes) -> None:
        """One whole message, in the call that read it off the socket."""
        self._heard = True
        if len(frame) <= CONTROL_FRAME_MAX:
            message = self._parse(frame)
            if message is None:
                return
            if type(message) is KeepAliveRequest:
                self._answer(message)
                return
            self._items.append(message)  # control messages are never dropped
        elif self._backlog_bytes is not None and self._bytes >= self._backlog_bytes:
            self._drop()
            return
        else:
            self._items.append(frame)
            self._bytes += len(frame)
        self._wakeup.set()

    def _on_closed(self, closed: SocketClosed) -> None:
        """The socket closed: receive() raises once the backlog is delivered."""
        if self._ended is None:
            self._ended = SocketSilent(self._silence_note()) if self._silent else closed
        self._timer.cancel()
        self._wakeup.set()

    def _answer(self, keepalive: KeepAliveRequest) -> None:
        """KEEP_ALIVE_RESP, now: ahead of any data waiting in the backlog."""
        try:
            self.sock.send(encode_message_bytes(keepalive.answer()))
        except SocketClosed:
            return
        stats = self._stats
        stats.keepalives_answered += 1
        stats.keepalive_delay.observe(max(0.0, time.time() - keepalive.timestamp / 1000))

    def _drop(self) -> None:
        """Count one data frame dropped at this point of the backlog."""
        self._stats.frames_dropped += 1
        marker = self._dropping
        if marker is None or not self._items or self._items[-1] is not marker:
            marker = self._dropping = _Dropped(0)
            self._items.append(marker)
            held = self._throttle.allow(f"backlog:{self.name}")
            if held is not None:
                log.warning(
                    "%s: backlog full (%d bytes): dropping data frames, recorded as a gap",
                    self.name,
                    self._bytes,
                )
        marker.count += 1

    def _silence_note(self) -> str:
        return f"{self.name} silent for {self._silence_timeout_s:g} s"

    def _check_silence(self) -> None:
        """Timer: abort the socket if nothing arrived for the timeout, else look again later."""
        if self._ended is not None:
            return
        if self._heard:
            self._heard = False
            self._quiet_looks = 0
        else:
            self._quiet_looks += 1
        if self._quiet_looks < SILENCE_LOOKS:
            self._timer = self._loop.call_later(
                self._silence_timeout_s / SILENCE_LOOKS, self._check_silence
            )
            return
        self._silent = True
        # End the channel now (the next receive raises); the socket's close follows.
        self._ended = SocketSilent(self._silence_note())
        self._wakeup.set()
        self.sock.abort()

    def _parse(self, frame: bytes) -> Message | None:
        """Parse a frame, counting it; None for frames that are skipped."""
        try:
            message = parse_frame(frame)
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
    # A media socket's backlog of unparsed data frames, in bytes, past which new data frames
    # are dropped (and recorded as a gap) so that keep-alives are still read and answered.
    media_backlog_bytes: int = 4 * 1024 * 1024
    # Where sockets may go (Zoom's hosts over wss:// by default); checked on every open.
    url_policy: UrlPolicy = field(default_factory=UrlPolicy)

    def open(self, url: str) -> AbstractAsyncContextManager[RtmsSocket]:
        """One RTMS socket, closed on the way out: `async with settings.open(url) as sock`.

        UrlRefused, before any connection is attempted, when the URL policy refuses `url`.
        """
        self.url_policy.check(url)
        return open_socket(
            url,
            ssl_context=self.ssl_context,
            user_agent=self.user_agent,
            open_timeout_s=OPEN_TIMEOUT_S,
            close_timeout_s=CLOSE_TIMEOUT_S,
            max_message_bytes=MAX_FRAME_BYTES,
        )

    def channel(
        self,
        sock: RtmsSocket,
        name: str,
        stats: ClientStats,
        throttle: LogThrottle,
        *,
        media: bool = False,
    ) -> FrameChannel:
        """Wrap an open socket in a FrameChannel; a media one has a bounded backlog."""
        backlog = self.media_backlog_bytes if media else None
        return FrameChannel(sock, name, stats, throttle, self.silence_timeout_s, backlog)


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
