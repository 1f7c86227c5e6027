"""RTMS stream client: one stream's signaling and media sockets, from handshake to the end.

I/O only: every message is built and parsed by `rtms_ingest.protocol`, and everything the
stream delivers goes to a `StreamSink`. The sequence follows docs/rtms-protocol.md §4 and the
failure handling §5: a dropped socket is reconnected with jittered backoff (quickly at first),
a refused handshake is fatal, and the stream ends on TERMINATED or after `close()`;
`abandon()` drops the sockets without ending the stream (another receiver holds it now).

Choices where the reference is silent or unsure:
- One media socket per kind on its own URL (as the official SDK does); everything on `all`
  with the combined mask only when a kind's URL is missing.
- A signaling socket closed before the handshake answer is Zoom's usual answer to a bad
  signature: three in a row (with backoff between) raise HandshakeRejected(None, ...).
- When signaling drops, the media sockets keep delivering until the next signaling handshake
  succeeds; after TERMINATED they are read until the server closes them (up to 1 s), so the
  frames sent just before the end still arrive.
- A media socket re-handshake refused after it once worked is retried (probably our own
  earlier socket still counted); the first refusal of any handshake is fatal.
- No WebSocket pings: RTMS keep-alives plus a silence watchdog (keepalive_timeout_s) decide
  whether a socket is alive.
- `buffer_data` goes in every signaling handshake, reconnects included; the audio Zoom kept
  before we were ready is delivered like any audio, in order, past timestamps and all.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import ssl
import time
from dataclasses import dataclass, field

from rtms_ingest.client.backoff import Backoff, is_retryable
from rtms_ingest.client.channel import (
    ClientStats,
    HandshakeRejected,
    LogThrottle,
    SocketSettings,
    run_until,
)
from rtms_ingest.client.context import StreamContext
from rtms_ingest.client.delivery import SinkDelivery
from rtms_ingest.client.media import SUPPORTED_MEDIA
from rtms_ingest.client.session import SignalingSession, retire
from rtms_ingest.client.signaling import Outcome
from rtms_ingest.client.sink import GapSpan, StreamSink, StreamStatus
from rtms_ingest.client.url_policy import UrlPolicy, UrlRefused
from rtms_ingest.client.wire import SocketClosed
from rtms_ingest.protocol import (
    MediaType,
    StopReason,
    StreamCloseRequest,
    TranscriptLanguage,
    handshake_signature,
)
from rtms_ingest.protocol.products import PRODUCTS

__all__ = [
    "ClientStats",
    "HandshakeRejected",
    "RtmsCredentials",
    "RtmsStreamClient",
    "StreamTarget",
]

log = logging.getLogger("rtms_ingest.client")

HANDSHAKE_TIMEOUT_S = 10.0
# How long close() waits for STREAM_CLOSE_RESP / TERMINATED before closing the sockets itself.
CLOSE_GRACE_S = 5.0
# Real Zoom answers a bad signature by closing the socket without a response (§5). One such
# close could be a server restart; this many in a row, with backoff between, is a refusal.
NO_ANSWER_LIMIT = 3


@dataclass(frozen=True)
class StreamTarget:
    """Which RTMS stream to join, from the `*.rtms_started` webhook."""

    product: str  # "meeting" | "webinar" | "video_sdk" | "contact_center"
    stream_owner_id: str  # meeting_uuid / session_id / engagement_id
    rtms_stream_id: str
    signaling_url: str  # the webhook's server_urls


@dataclass(frozen=True)
class RtmsCredentials:
    """The app's client id and secret (the secret stays out of repr and logs)."""

    client_id: str
    client_secret: str = field(repr=False)


def _owner_fields(target: StreamTarget) -> dict[str, str]:
    """The handshake fields that carry the stream owner's id.

    The product's own field, as the brief and the docs name it; plus meeting_uuid for Video
    SDK and Contact Center, because the official SDK sends the id there for every product
    (reference §1.1) and that is the only shape known to work against real Zoom.
    """
    return {"meeting_uuid": target.stream_owner_id} | {
        PRODUCTS[target.product].id_field: target.stream_owner_id
    }


def _language_words(language: int | None) -> str:
    """A transcript language in a log line or gap: "in SPANISH", "with language detection"."""
    if language is None:
        return "with language detection"
    try:
        return f"in {TranscriptLanguage(language).name}"
    except ValueError:
        return f"in language {language}"


def _signature(target: StreamTarget, credentials: RtmsCredentials) -> str:
    """The handshake signature of this app for this stream (§2.3)."""
    return handshake_signature(
        credentials.client_id,
        credentials.client_secret,
        target.stream_owner_id,
        target.rtms_stream_id,
    )


class RtmsStreamClient:
    """Joins one RTMS stream and feeds a StreamSink until the stream ends; reconnects on drops."""

    def __init__(
        self,
        target: StreamTarget,
        credentials: RtmsCredentials,
        sink: StreamSink,
        *,
        media: MediaType = MediaType.TRANSCRIPT | MediaType.CHAT | MediaType.AUDIO,
        keepalive_timeout_s: float = 65.0,
        ssl_context: ssl.SSLContext | None = None,
        backoff_initial_s: float = 3.0,
        backoff_max_s: float = 30.0,
        reconnect_window_s: float = 60.0,
        client_agent: str = "meeting-assistant/0.1",
        buffer_data: bool = True,
        media_backlog_bytes: int = 4 * 1024 * 1024,
        rejoining: str = "",
        resume_from_ms: int | None = None,
        url_policy: UrlPolicy | None = None,
        transcript_language: int | None = None,
    ) -> None:
        if target.product not in PRODUCTS:
            raise ValueError(f"unknown RTMS product {target.product!r}")
        if not media or media & ~SUPPORTED_MEDIA:
            raise ValueError(f"media must be a non-empty mix of {SUPPORTED_MEDIA!r}")
        self.target = target
        # Sent in every signaling handshake (§7): True asks Zoom for the audio spoken between
        # the webhook and our CLIENT_READY_ACK, delivered then as a burst of older frames.
        self.buffer_data = buffer_data
        self.stats = ClientStats()
        throttle = LogThrottle()
        self._settings = SocketSettings(
            ssl_context=ssl_context,
            user_agent=client_agent,
            silence_timeout_s=keepalive_timeout_s,
            handshake_timeout_s=min(HANDSHAKE_TIMEOUT_S, keepalive_timeout_s),
            backoff_initial_s=backoff_initial_s,
            backoff_max_s=backoff_max_s,
            reconnect_window_s=reconnect_window_s,
            media_backlog_bytes=media_backlog_bytes,
            url_policy=url_policy or UrlPolicy(),
        )
        self._delivery = SinkDelivery(sink, self.stats, throttle, target.rtms_stream_id)
        self._ctx = StreamContext(
            stream_id=target.rtms_stream_id,
            owner=_owner_fields(target),
            signature=_signature(target, credentials),
            media=media,
            settings=self._settings,
            stats=self.stats,
            throttle=throttle,
            delivery=self._delivery,
            closing=lambda: self._closing,
            transcript_language=transcript_language,
        )
        self._backoff = Backoff(backoff_initial_s, backoff_max_s)
        self._url = target.signaling_url
        self._pending_url: str | None = None
        self._wake = asyncio.Event()  # set by close(), abandon() and reconnect()
        self._finished = asyncio.Event()
        self._started = False
        self._closing = False
        self._abandoned = False
        self._leaving = False
        # A stream another ingest held: said (and counted as a gap from resume_from_ms) once live.
        self._rejoining = rejoining
        self._resume_from_ms = resume_from_ms
        self._session: SignalingSession | None = None
        self._lingering: set[asyncio.Task[str | None]] = set()
        self._ever_live = False
        self._no_answer_closes = 0
        self._discarded_reported = 0

    # --- public API -------------------------------------------------------------------------

    async def run(self) -> int | None:
        """Stream until TERMINATED or close(); returns the stop reason (19 if reconnects failed).

        Returns None, having told the sink nothing more, after abandon() or a hand-over.

        Raises HandshakeRejected when RTMS refuses a handshake, UpgradeRefused when the URL
        cannot be used at all (e.g. HTTP 4xx on the upgrade), or UrlRefused, before connecting,
        when the URL policy refuses a signaling or media URL; the caller reports those.
        """
        if self._started:
            raise RuntimeError("RtmsStreamClient.run() can only be called once")
        self._started = True
        try:
            return await self._run_loop()
        finally:
            await retire(self._lingering, 0.0)
            self._finished.set()

    async def close(self) -> None:
        """Ask RTMS to close the stream (STREAM_CLOSE_REQ), wait briefly, then close sockets."""
        if not self._closing and not self._abandoned:
            self._closing = True
            signaling = self._session.channel if self._session else None
            sent = False
            if signaling is not None:
                with contextlib.suppress(SocketClosed):
                    await signaling.send(StreamCloseRequest(self.target.rtms_stream_id))
                    sent = True
            if not sent:
                self._wake.set()  # nothing to ask politely: stop connecting or waiting now
        if not self._started:
            return
        try:
            await asyncio.wait_for(self._finished.wait(), CLOSE_GRACE_S)
        except TimeoutError:
            log.info("stream %s: no close answer in time; closing sockets", self._stream_id)
            self._wake.set()
            await self._finished.wait()

    def abandon(self) -> None:
        """Drop the sockets now, without STREAM_CLOSE_REQ and without reporting an end.

        For a stream another receiver has taken over: asking RTMS to close it, or telling the
        sink it ended, would end it for the new holder too.
        """
        self._abandoned = True
        self._wake.set()

    def leave_on_drop(self) -> None:
        """Hand the stream over: stream on until the connection drops, then stop quietly.

        For an ingest shutting down whose successor rejoins the stream: Zoom lets the newest
        signaling connection win, so the successor's handshake ends ours. Reconnecting then
        would take the stream back; reporting an end would end it for the successor too. A
        client that is not streaming now (reconnecting) stops at once.
        """
        self._leaving = True
        if self._session is None or not self._session.went_live:
            self._wake.set()

    @property
    def last_ms(self) -> int | None:
        """The stream-clock time of the latest media delivered (None before any)."""
        return self._delivery.last_ms

    @property
    def signaling_url(self) -> str:
        """The signaling URL the client connects to now (a restart by Zoom may change it)."""
        return self._pending_url or self._url

    def reconnect(self, signaling_url: str | None = None) -> bool:
        """Drop the connection and reconnect now, to `signaling_url` if given (webhook said so).

        A new URL the policy refuses is ignored (False), logged, and the connection kept: a
        forged restart must neither take the stream elsewhere nor cut it.
        """
        if signaling_url:
            try:
                self._settings.url_policy.check(signaling_url)
            except UrlRefused as exc:
                log.error("stream %s: restart ignored: %s", self._stream_id, exc)
                return False
            self._pending_url = signaling_url
        self._wake.set()
        return True

    def use_sink(
        self, sink: StreamSink, media: MediaType, transcript_language: int | None = None
    ) -> bool:
        """Deliver to `sink` from now on, asking for `media` (the transcript in
        `transcript_language`, None: detected); True if that needs a reconnect.

        The media of a connection are fixed at its handshakes: new media take a new connection
        (the caller reconnects when it suits; data in between goes to the new sink). A new
        transcript language alone re-handshakes the transcript's media socket now, and nothing
        else: what Zoom transcribes meanwhile is lost and reported as a gap.
        """
        if not media or media & ~SUPPORTED_MEDIA:
            raise ValueError(f"media must be a non-empty mix of {SUPPORTED_MEDIA!r}")
        self._delivery.use(sink)
        relanguaged = transcript_language != self._ctx.transcript_language
        earlier_media = self._ctx.media
        self._ctx = dataclasses.replace(
            self._ctx, media=media, transcript_language=transcript_language
        )
        if media != earlier_media:
            return True
        if relanguaged and self._session is not None and MediaType.TRANSCRIPT in media:
            why = f"ask Zoom for the transcript {_language_words(transcript_language)}"
            log.info("stream %s: transcript socket re-handshakes to %s", self._stream_id, why)
            self._session.use_transcript_language(self._ctx, why)
        return False

    # --- run loop ---------------------------------------------------------------------------

    @property
    def _stream_id(self) -> str:
        return self.target.rtms_stream_id

    async def _run_loop(self) -> int | None:
        """Connect, stream, and reconnect after drops until the stream ends or cannot come back."""
        down_since = time.monotonic()  # the window also bounds the very first connection
        while True:
            self._wake.clear()
            if self._pending_url:
                self._url, self._pending_url = self._pending_url, None
            if self._abandoned:
                log.info("stream %s abandoned: sockets dropped", self._stream_id)
                return None
            if self._closing:
                return await self._end(StopReason.RECEIVER_REQUEST_CLOSE, "closed by receiver")
            if self._leaving:  # handed over while down: connecting would kick the successor
                log.info("stream %s handed over while reconnecting", self._stream_id)
                await self._report_discarded()
                return None
            outcome = await self._attempt()
            if self._abandoned:
                continue
            if outcome.kind == "ended":
                return await self._end(outcome.reason, outcome.detail)
            if self._leaving:
                log.info("stream %s handed over: %s", self._stream_id, outcome.detail)
                await self._report_discarded()
                return None
            if self._session is not None and self._session.went_live:
                down_since = outcome.since or time.monotonic()
                await self._report_drop(outcome)
            elif outcome.no_answer:
                self._count_no_answer(outcome)
            remaining = self._settings.reconnect_window_s - (time.monotonic() - down_since)
            if remaining <= 0:
                return await self._fail(outcome)
            delay = 0.0 if outcome.kind == "reconnect" else self._backoff.next_delay()
            log.info("stream %s: reconnecting in %.1f s", self._stream_id, min(delay, remaining))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), min(delay, remaining))
            self.stats.reconnects += 1

    async def _attempt(self) -> Outcome:
        """One signaling connection, cut short by close() or reconnect(); retryables -> drop."""
        self._session = SignalingSession(
            self._ctx, self._lingering, self._on_live, buffer_data=self.buffer_data
        )
        try:
            finished, outcome = await run_until(self._session.run(self._url), self._wake)
        except HandshakeRejected:
            raise
        except Exception as exc:
            if not is_retryable(exc):
                raise
            return Outcome("dropped", f"{type(exc).__name__}: {exc}")
        if finished and outcome is not None:
            return outcome
        if self._closing:
            return Outcome("ended", "closed by receiver", StopReason.RECEIVER_REQUEST_CLOSE)
        return Outcome("reconnect", "reconnect requested")

    async def _on_live(self) -> None:
        """A connection went live: backoff and refusal count start over; tell the sink."""
        self._backoff.reset()
        self._no_answer_closes = 0
        if self._rejoining and not self._ever_live:
            await self._delivery.gap(self._rejoining, GapSpan(from_ms=self._resume_from_ms))
            await self._delivery.state(StreamStatus.LIVE, self._rejoining)
        else:
            await self._delivery.state(StreamStatus.LIVE, "reconnected" if self._ever_live else "")
        self._ever_live = True

    async def _report_drop(self, outcome: Outcome) -> None:
        """Tell the sink that live data stopped and that we are on our way back."""
        log.warning("stream %s: %s; reconnecting", self._stream_id, outcome.detail)
        await self._delivery.gap(
            f"{outcome.detail}; reconnecting", GapSpan(from_ms=self._delivery.last_ms)
        )
        await self._delivery.state(StreamStatus.RECONNECTING, outcome.detail)

    def _count_no_answer(self, outcome: Outcome) -> None:
        """Raise HandshakeRejected after NO_ANSWER_LIMIT answerless closes in a row."""
        self._no_answer_closes += 1
        if self._no_answer_closes >= NO_ANSWER_LIMIT:
            raise HandshakeRejected(
                None,
                f"{outcome.detail}, {NO_ANSWER_LIMIT} times in a row "
                "(how Zoom answers a bad signature)",
            )

    async def _end(self, reason: int | None, detail: str) -> int:
        """The stream is over: tell the sink and return the stop reason."""
        code = int(reason) if reason is not None else int(StopReason.UNDEFINED)
        await self._report_discarded()
        log.info("stream %s ended: %s (reason %d)", self._stream_id, detail, code)
        await self._delivery.state(StreamStatus.ENDED, detail, code)
        return code

    async def _report_discarded(self) -> None:
        """Frames lost at the end (not delivered in time, or dropped and not yet in a gap)."""
        await retire(self._lingering, 0.0)  # their undelivered frames are counted as they stop
        stats = self.stats
        undelivered = stats.frames_discarded - self._discarded_reported
        dropped, stats.drops_unreported = stats.drops_unreported, 0
        if undelivered + dropped <= 0:
            return
        self._discarded_reported = stats.frames_discarded
        stats.gaps_recorded += 1
        detail = (
            f"{undelivered + dropped} media frames lost at the end of the stream "
            f"({undelivered} received but not delivered in time, {dropped} dropped under load)"
        )
        log.warning("stream %s: %s", self._stream_id, detail)
        # Where on the stream clock each lost frame was is not kept: only how many there were.
        await self._delivery.gap(detail, GapSpan(frames_lost=undelivered + dropped))

    async def _fail(self, outcome: Outcome) -> int:
        """Reconnecting took longer than the window: give up with AWAIT_RECONNECTION_TIMEOUT."""
        code = int(StopReason.AWAIT_RECONNECTION_TIMEOUT)
        detail = (
            f"could not reconnect within {self._settings.reconnect_window_s:g} s "
            f"(last: {outcome.detail})"
        )
        log.error("stream %s failed: %s", self._stream_id, detail)
        await self._report_discarded()
        await self._delivery.state(StreamStatus.FAILED, detail, code)
        return code
