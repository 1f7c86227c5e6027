"""Media sockets of the RTMS client: which to open, what to ask for, and keeping each one up."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Mapping

from rtms_ingest.client.backoff import Backoff, is_retryable
from rtms_ingest.client.channel import FrameChannel, HandshakeRejected, expect, run_until
from rtms_ingest.client.context import StreamContext
from rtms_ingest.client.sink import GapSpan
from rtms_ingest.protocol import (
    MEDIA_URL_KEYS,
    AudioChannel,
    AudioCodec,
    AudioContentType,
    AudioDataOption,
    AudioParams,
    AudioSampleRate,
    ChatParams,
    DataHandshakeRequest,
    DataHandshakeResponse,
    DeskshareParams,
    MediaParams,
    MediaType,
    Message,
    StatusCode,
    TextContentType,
    TranscriptLanguage,
    TranscriptParams,
    VideoCodec,
    VideoContentType,
    VideoDataOption,
    VideoParams,
    VideoResolution,
)

__all__ = ["SUPPORTED_MEDIA", "MediaLink", "media_params_for", "plan_media_sockets"]

log = logging.getLogger("rtms_ingest.client")

# The kinds the sink can take, in the order their sockets are opened.
_KINDS = (
    MediaType.TRANSCRIPT,
    MediaType.CHAT,
    MediaType.AUDIO,
    MediaType.DESKSHARE,
    MediaType.VIDEO,
)
SUPPORTED_MEDIA = (
    MediaType.TRANSCRIPT | MediaType.CHAT | MediaType.AUDIO | MediaType.DESKSHARE | MediaType.VIDEO
)
# Screen share as JPG stills, two a second: slides change seldom, and a still needs no decoder
# state (H.264 is decoded too, key frames only, when a server sends it anyway).
SHARE_FPS = 2
# One camera (the active speaker's, by subscription) as JPG stills, one a second at SD: enough
# for a thumbnail every 10 s, and the least Zoom can send.
VIDEO_FPS = 1
# A media socket closing at the very end of a meeting usually races the TERMINATED update on
# signaling; waiting this long before calling it a drop avoids reporting a gap that is not one.
MEDIA_SETTLE_S = 0.2
# Frames dropped under overload are reported as one gap per socket at most this often.
GAP_REPORT_INTERVAL_S = 1.0

RequestFactory = Callable[[MediaType], DataHandshakeRequest]


def media_params_for(mask: MediaType, transcript_language: int | None = None) -> MediaParams:
    """What we ask for: native transcript, chat, 16 kHz mono L16 audio, share and one camera as
    JPG stills.

    The transcript in `transcript_language` (a TranscriptLanguage) with Zoom's language
    detection off, or with detection on when it is None (src_language -1, enable_lid true).
    """
    audio = transcript = chat = None
    deskshare = video = None
    if MediaType.AUDIO in mask:
        # Per-speaker raw PCM at 16 kHz mono is what the ASR issue will feed Whisper directly.
        audio = AudioParams(
            content_type=AudioContentType.RAW_AUDIO,
            codec=AudioCodec.L16,
            sample_rate=AudioSampleRate.SR_16K,
            channel=AudioChannel.MONO,
            data_opt=AudioDataOption.AUDIO_MULTI_STREAMS,
            send_rate=20,
        )
    if MediaType.TRANSCRIPT in mask:
        forced = transcript_language is not None and transcript_language != TranscriptLanguage.NONE
        transcript = TranscriptParams(
            content_type=TextContentType.TEXT,
            src_language=transcript_language if forced else TranscriptLanguage.NONE,
            enable_lid=not forced,
        )
    if MediaType.CHAT in mask:
        chat = ChatParams(content_type=TextContentType.TEXT)
    if MediaType.DESKSHARE in mask:
        deskshare = DeskshareParams(
            content_type=VideoContentType.RAW_VIDEO,
            codec=VideoCodec.JPG,
            resolution=VideoResolution.HD,
            fps=SHARE_FPS,
        )
    if MediaType.VIDEO in mask:
        video = VideoParams(
            content_type=VideoContentType.RAW_VIDEO,
            codec=VideoCodec.JPG,
            resolution=VideoResolution.SD,
            data_opt=VideoDataOption.VIDEO_SINGLE_INDIVIDUAL_STREAM,
            fps=VIDEO_FPS,
        )
    return MediaParams(
        audio=audio, video=video, deskshare=deskshare, transcript=transcript, chat=chat
    )


def plan_media_sockets(
    server_urls: Mapping[str, str], media: MediaType
) -> list[tuple[str, MediaType, str]]:
    """(name, media mask, URL) of each media socket to open for `media`.

    One socket per kind on its own URL, as the official SDK does. If the server did not give
    a URL for every kind we want, everything goes on the `all` URL with the combined mask
    rather than mixing the two styles (Zoom has a status code for an `all` connection that
    clashes with per-kind ones). HandshakeRejected if neither is possible.
    """
    kinds = [kind for kind in _KINDS if kind in media]
    keys = [MEDIA_URL_KEYS[kind] for kind in kinds]
    if all(server_urls.get(key) for key in keys):
        return [(key, kind, server_urls[key]) for key, kind in zip(keys, kinds, strict=True)]
    if server_urls.get("all"):
        return [("all", media, server_urls["all"])]
    missing = ", ".join(key for key in keys if not server_urls.get(key))
    raise HandshakeRejected(0, f"no media URL for {missing} and no 'all' URL")


class MediaLink:
    """One media socket, re-opened (alone) whenever it drops, until the session ends."""

    def __init__(
        self, name: str, url: str, mask: MediaType, make_request: RequestFactory, ctx: StreamContext
    ) -> None:
        self.name = name
        self.url = url
        self.mask = mask
        self.ready = asyncio.Event()  # set once the first data handshake succeeded
        self.down_since: float | None = None  # monotonic time of the current outage
        self._make_request = make_request
        self._ctx = ctx
        self._restart = asyncio.Event()
        self._restart_why = ""  # our own reason for a restart ("" when the server asked)
        self._retired = asyncio.Event()
        self._backoff = Backoff(ctx.settings.backoff_initial_s, ctx.settings.backoff_max_s)
        self._drops = DropTally()

    def restart(self, why: str = "") -> None:
        """Drop this socket and reconnect it now (MEDIA_CONNECTION_INTERRUPTED, or `why`)."""
        self._restart_why = why
        self._restart.set()

    def retire(self) -> None:
        """Keep reading until the server closes the socket, but never reconnect it again."""
        self._retired.set()

    async def run(self) -> str | None:
        """Keep the socket up; returns why it gave up, or None once retired and closed."""
        while True:
            try:
                detail = await self._connect_and_pump()
            except HandshakeRejected as exc:
                # A first refusal is final. A later one is most likely our own previous socket
                # still counted by the server (a duplicate connection): retry within the window.
                if not self.ready.is_set():
                    raise
                detail = str(exc)
            except Exception as exc:
                if not is_retryable(exc):
                    raise
                detail = f"{type(exc).__name__}: {exc}"
            restart_now = self._restart.is_set()
            self._restart.clear()
            if not restart_now and await self._ending():
                return None
            given_up = await self._before_retry(detail, restart_now)
            if given_up is not None:
                return given_up
            if self._retired.is_set() or self._ctx.closing():
                return None

    async def _ending(self) -> bool:
        """Whether the socket closed because the session is ending (then it stays closed)."""
        if not (self._retired.is_set() or self._ctx.closing()):
            # At the end of a meeting the server closes media sockets right after sending
            # TERMINATED on signaling; give that message a moment to be read first.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._retired.wait(), MEDIA_SETTLE_S)
        return self._retired.is_set() or self._ctx.closing()

    async def _before_retry(self, detail: str, restart_now: bool) -> str | None:
        """Report the drop once, then wait out the backoff; a reason if the window is over."""
        now = time.monotonic()
        why, self._restart_why = self._restart_why, ""
        if self.down_since is None:
            self.down_since = now
            # Our own restart is no drop, but what Zoom sends until the new handshake is lost.
            what = f"reconnected to {why}" if why and restart_now else f"dropped ({detail})"
            log.warning("media socket %s %s: reconnecting it", self.name, what)
            await self._ctx.delivery.gap(
                f"{self.name} media socket {what}", GapSpan(from_ms=self._drops.last_ms)
            )
        remaining = self._ctx.settings.reconnect_window_s - (now - self.down_since)
        if remaining <= 0:
            return f"{self.name} media socket down for {self._ctx.settings.reconnect_window_s:g} s"
        delay = 0.0 if restart_now else self._backoff.next_delay()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._retired.wait(), min(delay, remaining))
        self._ctx.stats.media_reconnects += 1
        return None

    async def _connect_and_pump(self) -> str:
        """Open, handshake and read the socket until it closes or a restart is asked for."""
        async with self._ctx.settings.open(self.url) as sock:
            channel = self._ctx.settings.channel(
                sock, f"media:{self.name}", self._ctx.stats, self._ctx.throttle, media=True
            )
            try:
                await self._handshake(channel)
                if self.down_since is not None:
                    log.info("media socket %s reconnected", self.name)
                self.down_since = None
                self._backoff.reset()
                self.ready.set()
                finished, _ = await run_until(self._pump(channel), self._restart)
                return "closed" if finished else self._restart_why or "restart requested"
            finally:
                # Runs even when the reader is cancelled at the end: what was read but never
                # delivered, or dropped and not yet reported, is counted here, and the stream
                # reports it as a gap when it ends.
                undelivered, drops = channel.discard()
                self._ctx.stats.frames_discarded += undelivered
                self._ctx.stats.drops_unreported += drops + self._drops.take()

    async def _handshake(self, channel: FrameChannel) -> None:
        """DATA_HAND_SHAKE_REQ, then RESP; HandshakeRejected on a non-zero status."""
        request = self._make_request(self.mask)
        await channel.send(request)
        answer = await expect(
            channel, DataHandshakeResponse, self._ctx.settings.handshake_timeout_s
        )
        if answer.status_code != 0:
            reason = answer.reason
            if answer.status_code == StatusCode.INVALID_MEDIA_TRANSCRIPT_SOURCE_LANGUAGE:
                asked = request.media_params.transcript if request.media_params else None
                language = asked.src_language if asked else None
                reason = f"Zoom refused transcript src_language {language} ({reason or '43'})"
            raise HandshakeRejected(answer.status_code, reason, f"media:{self.name}")
        if answer.payload_encrypted:
            # We never ask for encryption and hold no keys: the payloads would be unreadable.
            log.error("media socket %s: server says payloads are encrypted", self.name)

    async def _pump(self, channel: FrameChannel) -> None:
        """Deliver media messages until the socket dies (SocketClosed or SocketSilent)."""
        delivery = self._ctx.delivery
        drops = self._drops
        while True:
            batch = await channel.receive_many()
            if channel.drops:
                drops.add(channel.take_drops(), _stamp(batch[0]))
            if drops.frames and drops.due():
                self._ctx.stats.gaps_recorded += 1
                await delivery.gap(*drops.report(self.name))
            ignored = await delivery.media_many(batch)
            for message in ignored:
                log.debug("media socket %s: msg_type %s ignored", self.name, message.MSG_TYPE)
            for message in reversed(batch):
                at_ms = _stamp(message)
                if at_ms is not None:
                    drops.last_ms = at_ms
                    break


def _stamp(message: Message) -> int | None:
    """The stream-clock time of a media message (None for one without content)."""
    return getattr(getattr(message, "content", None), "timestamp", None)


class DropTally:
    """Frames dropped from a full backlog, gathered into one gap a second on the stream clock.

    Under overload, drops come in many short runs; a gap per run would add a database write
    per run to an ingest that is already behind.
    """

    def __init__(self, interval_s: float = GAP_REPORT_INTERVAL_S) -> None:
        self.frames = 0
        self.last_ms: int | None = None  # stream clock of the last frame delivered
        self._from_ms: int | None = None
        self._to_ms: int | None = None
        self._interval_s = interval_s
        self._reported_at = time.monotonic()

    def add(self, frames: int, next_ms: int | None) -> None:
        """`frames` dropped between the last delivered frame and one stamped `next_ms`."""
        if not self.frames:
            self._from_ms = self.last_ms
        self.frames += frames
        self._to_ms = next_ms

    def due(self) -> bool:
        return time.monotonic() - self._reported_at >= self._interval_s

    def report(self, socket: str) -> tuple[str, GapSpan]:
        """The gap's detail and span; the tally starts over."""
        span = GapSpan(self._from_ms, self._to_ms, self.frames)
        detail = (
            f"{socket}: {span.frames_lost} frames dropped (ingest overloaded), "
            f"stream clock {_clock(span.from_ms)} to {_clock(span.to_ms)}"
        )
        self.take()
        self._reported_at = time.monotonic()
        return detail, span

    def take(self) -> int:
        """Dropped frames not yet reported (then zero)."""
        frames, self.frames = self.frames, 0
        return frames


def _clock(at_ms: int | None) -> str:
    """A stream-clock time for a gap's detail (ms; '?' when unknown)."""
    return "?" if at_ms is None else f"{at_ms} ms"
