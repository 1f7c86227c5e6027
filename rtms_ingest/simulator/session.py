"""One simulated RTMS stream: its ids, its sockets, its state and how it ends."""

from __future__ import annotations

import asyncio
import base64
import logging
import secrets
import uuid
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from rtms_ingest.protocol import (
    MEDIA_URL_KEYS,
    AudioParams,
    DeskshareParams,
    MediaParams,
    MediaType,
    Message,
    SessionState,
    SessionStateUpdate,
    StopReason,
    StreamState,
    StreamStateUpdate,
    VideoParams,
)
from rtms_ingest.simulator.config import SimulatorConfig
from rtms_ingest.simulator.connection import Connection, now_ms
from rtms_ingest.simulator.fixture import RecordedMeeting
from rtms_ingest.simulator.player import Player, StreamClock
from rtms_ingest.simulator.report import SignalingOutage, StreamReport
from rtms_ingest.simulator.visual import PictureCache, VisualPlayer
from rtms_ingest.simulator.webhooks import webhook_body

if TYPE_CHECKING:
    from rtms_ingest.simulator.audio import AudioLibrary

log = logging.getLogger(__name__)

MEDIA_KINDS: dict[str, MediaType] = {key: media for media, key in MEDIA_URL_KEYS.items()}
# Preferred socket for the malformed-frame fault: the one most clients read text from.
_MALFORMED_ORDER = ("transcript", "all", "chat", "audio", "video", "deskshare")


def random_meeting_uuid() -> str:
    """A Zoom-looking meeting UUID: base64 of 16 random bytes, e.g. 'qX3+/c1T...=='."""
    return base64.b64encode(secrets.token_bytes(16)).decode("ascii")


class SimulatedStream:
    """A stream the simulator offers: ids, URLs, live sockets and the playback state."""

    def __init__(
        self,
        meeting: RecordedMeeting,
        config: SimulatorConfig,
        library: AudioLibrary,
        base_url: str,
        owner_id: str | None = None,
        rtms_stream_id: str | None = None,
    ) -> None:
        self.meeting = meeting
        self.config = config
        self.library = library
        self.owner_id = owner_id or random_meeting_uuid()
        self.rtms_stream_id = rtms_stream_id or uuid.uuid4().hex
        self.rtms_session_id = uuid.uuid4().hex
        # The numeric id a host dials (9-11 digits), which rtms_started carries since 2026.
        self.meeting_number = secrets.randbelow(9 * 10**10) + 10**10
        # Who started the stream (rtms_started's operator_id): the host, for a REST start.
        self.operator_id = config.operator_id
        # Paused by the REST API (reference §8): media and text due meanwhile are not sent.
        self.paused = False
        # Shaped like Zoom's mock server's; unused, since payloads are never encrypted.
        self.srtp_keys = {kind: secrets.token_hex(32) for kind in ("audio", "video", "share")}
        self.base_url = base_url
        self.report = StreamReport(self.rtms_stream_id, self.owner_id)
        self.signaling: Connection | None = None
        self.media: dict[str, tuple[Connection, int, AudioParams | None]] = {}
        # The negotiated params of each media socket (its video and deskshare ones matter).
        self.media_params: dict[str, MediaParams] = {}
        self.video_subscription: int | None = None  # VIDEO_SUBSCRIPTION_REQ's participant
        self.active_speaker: int | None = None
        self.pictures = PictureCache()
        self.ready = asyncio.Event()
        self.stop_requested: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self.ended = False
        self.player: Player | None = None
        self.clock: StreamClock | None = None  # started at stream time 0
        self.buffer_data: bool | None = None  # as the latest accepted signaling handshake said
        # Runs while a playing stream has no signaling socket: AWAIT_RECONNECTION_TIMEOUT.
        self._reconnect_timer: asyncio.TimerHandle | None = None

    # Ids and URLs

    @property
    def id_field(self) -> str:
        """meeting_uuid, session_id or engagement_id, per product."""
        return self.config.product_info.id_field

    @property
    def meeting_uuid(self) -> str | None:
        """The owner id of a meeting or webinar stream."""
        return self.owner_id if self.id_field == "meeting_uuid" else None

    @property
    def session_id(self) -> str | None:
        """The owner id of a Video SDK stream."""
        return self.owner_id if self.id_field == "session_id" else None

    @property
    def engagement_id(self) -> str | None:
        """The owner id of a Contact Center stream."""
        return self.owner_id if self.id_field == "engagement_id" else None

    @property
    def signaling_url(self) -> str:
        """The signaling socket URL, sent as the webhook's `server_urls`."""
        return f"{self.base_url}/signaling/{self._path_id}"

    def media_urls(self) -> dict[str, str]:
        """All six `server_urls` keys of the signaling handshake response."""
        base = f"{self.config.faults.media_url_base or self.base_url}/media/{self._path_id}"
        return {key: f"{base}/{key}" for key in MEDIA_KINDS}

    @property
    def _path_id(self) -> str:
        return quote(self.rtms_stream_id, safe="")

    def webhook_payload(self, event: str, stop_reason: int | None = None) -> dict[str, Any]:
        """The whole webhook body Zoom would POST for `event` (e.g. "meeting.rtms_started")."""
        return webhook_body(event, self.webhook_fields(event, stop_reason))

    def webhook_fields(self, event: str, stop_reason: int | None = None) -> dict[str, Any]:
        """The `payload` object of this stream's started/stopped webhook."""
        payload: dict[str, Any] = {
            self.id_field: self.owner_id,
            "rtms_stream_id": self.rtms_stream_id,
        }
        if event.endswith("started"):
            payload["server_urls"] = self.signaling_url
            payload["operator_id"] = self.operator_id
            payload.update(self._started_fields_2026())
        else:
            payload["stop_reason"] = int(
                StopReason.MEETING_ENDED if stop_reason is None else stop_reason
            )
        return payload

    def concurrency_limited_fields(self) -> dict[str, Any]:
        """The `payload` of rtms_concurrency_limited: which meeting was refused, whose account."""
        return {self.id_field: self.owner_id, "account_id": self.config.account_id}

    def _started_fields_2026(self) -> dict[str, Any]:
        """What Zoom's April 2026 release added to a meeting's or webinar's rtms_started (§7)."""
        number_field = {"meeting": "meeting_id", "webinar": "webinar_id"}.get(self.config.product)
        if number_field is None:  # Video SDK sessions and Contact Center engagements
            return {}
        return {
            "account_id": self.config.account_id,
            "is_original_host": self.config.is_original_host,
            number_field: self.meeting_number,
        }

    # Sockets

    def attach_signaling(self, connection: Connection) -> list[Connection]:
        """Make `connection` the stream's signaling socket; returns the sockets it replaces.

        The newest signaling connection wins: the previous one and every media socket (they
        belong to the previous client session) are handed back to be closed with 1000. After
        the first CLIENT_READY_ACK this is a rejoin: the stream goes on where it is.
        """
        replaced = [conn for conn, _, _ in self.media.values()]
        self.media.clear()
        if self.signaling is not None and not self.signaling.closed:
            replaced.insert(0, self.signaling)
            self.report.kicked_connections += 1
        self.signaling = connection
        self.report.signaling_connections += 1
        if self.ready.is_set():
            self.report.rejoins += 1
        self._signaling_back()
        return replaced

    def attach_media(
        self, kind: str, connection: Connection, mask: int, params: AudioParams | None
    ) -> list[Connection]:
        """Register a media socket; returns the older sockets it replaces (newer wins)."""
        replaced: list[Connection] = []
        for other_kind, (conn, other_mask, _) in list(self.media.items()):
            if other_kind == kind or (kind == "all" and other_mask & mask):
                replaced.append(conn)
                del self.media[other_kind]
        self.media[kind] = (connection, mask, params)
        return replaced

    def all_socket_covers(self, kind: str) -> bool:
        """Whether a live `all` socket already carries media of this kind."""
        entry = self.media.get("all")
        return entry is not None and not entry[0].closed and bool(entry[1] & MEDIA_KINDS[kind])

    def detach(self, connection: Connection) -> None:
        """Forget a socket that closed; losing the signaling socket starts the reconnect wait."""
        if self.signaling is connection:
            self.signaling = None
            self._signaling_lost()
        for kind, (conn, _, _) in list(self.media.items()):
            if conn is connection:
                del self.media[kind]

    def media_socket(self, kind: str) -> Connection | None:
        """The live socket that carries `kind` media: its own socket, else the `all` socket."""
        entry = self.media.get(kind)
        if entry is None or entry[0].closed:
            entry = self.media.get("all")
            if entry is None or entry[0].closed or not entry[1] & MEDIA_KINDS[kind]:
                return None
        return entry[0]

    def visual_target(self, kind: str) -> tuple[Connection, VideoParams | DeskshareParams] | None:
        """The socket `kind` ("video" or "deskshare") frames go to and its params, if any."""
        connection = self.media_socket(kind)
        if connection is None:
            return None
        negotiated = self.media_params.get(kind) or self.media_params.get("all")
        params = getattr(negotiated, kind, None) if negotiated is not None else None
        if params is None:
            params = VideoParams() if kind == "video" else DeskshareParams()
        return connection, params

    def audio_target(self) -> tuple[Connection, AudioParams] | None:
        """The socket audio goes to and its negotiated params, if anyone listens."""
        connection = self.media_socket("audio")
        if connection is None:
            return None
        entry = self.media.get("audio") or self.media["all"]
        return (connection, entry[2]) if entry[2] is not None else None

    async def send_signaling(self, message: Message, kind: str, key: tuple[Any, ...]) -> bool:
        """Send on the signaling socket; False if there is none."""
        connection = self.signaling
        if connection is None:
            return False
        return await connection.send(message, kind, key)

    def subscribed(self, event_type: int) -> bool:
        """Events are sent unless the client unsubscribed from their type."""
        return self.report.event_subscriptions.get(int(event_type), True)

    # Faults

    def drop_sockets(self, target: str) -> None:
        """Abort the signaling socket or every media socket (fault injection)."""
        if target == "signaling":
            victims = [self.signaling] if self.signaling is not None else []
        else:
            victims = [conn for conn, _, _ in self.media.values()]
        for connection in victims:
            connection.abort()
            self.detach(connection)
        self.report.faults_fired.append(f"drop {target} ({len(victims)} socket(s))")

    async def send_malformed(self, text: str) -> None:
        """Send one unparseable frame on a media socket (fault injection)."""
        for kind in _MALFORMED_ORDER:
            entry = self.media.get(kind)
            if entry is not None and not entry[0].closed:
                if await entry[0].send_text(text, "malformed", (entry[0].label,)):
                    self.report.faults_fired.append(f"malformed frame on {entry[0].label}")
                return

    # Reconnection (reference §5 and §8): a playing stream whose signaling socket went away
    # without STREAM_CLOSE_REQ waits reconnect_window_s for a fresh handshake, then ends.

    def _signaling_lost(self) -> None:
        if not self.ready.is_set() or self.over or self._reconnect_timer is not None:
            return
        stamp = now_ms()
        at = self.clock.now_ms() if self.clock is not None else 0
        self.report.signaling_outages.append(SignalingOutage(at, stamp))
        log.info(
            "%s: signaling gone; waiting %g s for a rejoin",
            self.rtms_stream_id,
            self.config.reconnect_window_s,
        )
        self._reconnect_timer = asyncio.get_running_loop().call_later(
            self.config.reconnect_window_s, self._reconnect_timed_out
        )

    def _signaling_back(self) -> None:
        if self._reconnect_timer is None:
            return
        self._reconnect_timer.cancel()
        self._reconnect_timer = None
        outage = self.report.signaling_outages[-1]
        outage.to_ms = self.clock.now_ms() if self.clock is not None else 0
        outage.to_wall_ms = now_ms()

    def _reconnect_timed_out(self) -> None:
        self._reconnect_timer = None
        if self.signaling is None:
            log.info("%s: no rejoin in time; ending the stream", self.rtms_stream_id)
            self.request_stop(StopReason.AWAIT_RECONNECTION_TIMEOUT)

    # Life cycle

    @property
    def over(self) -> bool:
        """Ended, or ending: closed by the client, timed out, or played to the end.

        An over stream refuses every handshake; it can never be joined again.
        """
        return self.ended or self.stop_requested.done()

    async def set_paused(self, paused: bool) -> None:
        """Pause or resume the stream: SESSION_STATE_UPDATE PAUSED (3) or RESUMED (4)."""
        self.paused = paused
        state = SessionState.PAUSED if paused else SessionState.RESUMED
        stamp = self.clock.wire(self.clock.now_ms()) if self.clock else now_ms()
        update = SessionStateUpdate(self.rtms_session_id, state, 0, stamp)
        await self.send_signaling(update, "session_state", (state, 0))

    def request_stop(self, reason: int) -> None:
        """End the stream as soon as possible with this stop reason (first request wins)."""
        if not self.stop_requested.done():
            self.stop_requested.set_result(int(reason))

    async def client_ready(self) -> None:
        """CLIENT_READY_ACK: start playing, or (after a rejoin) re-announce the session."""
        self.report.joined = True
        if not self.ready.is_set():
            self.ready.set()
        elif self.player is not None:
            await self.player.announce()

    def start_clock(self) -> StreamClock:
        """Stream time 0 is now (at the webhook or at ready, per config.clock_start)."""
        clock = self.clock = StreamClock(self.config.speed, self.config.clock_origin_ms)
        self.report.clock_origin_ms = clock.origin_ms
        self.report.clock_start_ns = clock.start_ns
        self.report.speed = clock.speed
        return clock

    def meeting_over(self) -> bool:
        """Whether the stream clock, if started, has passed the end of the meeting."""
        end_ms = round(self.meeting.duration_s * 1000)
        return self.clock is not None and self.clock.now_ms() >= end_ms

    def ready_window_s(self) -> float:
        """Real seconds a client has to get ready: connect_timeout_s, never past the meeting end."""
        if self.clock is None:
            return self.config.connect_timeout_s
        # One ms past the end, so that meeting_over() holds once this runs out.
        left_ms = round(self.meeting.duration_s * 1000) + 1 - self.clock.now_ms()
        return max(0.0, min(self.config.connect_timeout_s, left_ms / 1000 / self.clock.speed))

    async def wait_ready(self, timeout_s: float) -> bool:
        """Wait for the first CLIENT_READY_ACK; False on timeout or an early stop."""
        waiter = asyncio.ensure_future(self.ready.wait())
        either: set[asyncio.Future[Any]] = {waiter, self.stop_requested}
        try:
            await asyncio.wait(
                either,
                timeout=timeout_s,
                return_when=asyncio.FIRST_COMPLETED,
            )
        finally:
            waiter.cancel()
        return self.ready.is_set() and not self.stop_requested.done()

    async def play_meeting(self) -> int:
        """Play the whole meeting, or until a stop is requested; returns the stop reason."""
        clock = self.clock or self.start_clock()
        self.player = Player(self, clock)
        playback = asyncio.create_task(self._playback(), name=f"playback {self.rtms_stream_id}")
        either: set[asyncio.Future[Any]] = {playback, self.stop_requested}
        await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
        if self.stop_requested.done():
            playback.cancel()
            await asyncio.gather(playback, return_exceptions=True)
            return self.stop_requested.result()
        playback.result()
        return int(StopReason.MEETING_ENDED)

    async def _playback(self) -> None:
        player = self.player
        assert player is not None
        if self.config.clock_start == "webhook":
            # Ready late: the audio Zoom buffered since the webhook first, then live (§7).
            ready_ms = player.clock.now_ms()
            player.start_at(ready_ms)
            await player.announce(at_ms=ready_ms)
            buffered = await player.send_buffered_audio(ready_ms, self.buffer_data)
            self.report.buffered_audio = buffered
        else:
            await player.announce(at_ms=0)
        visual = VisualPlayer(self, player.clock, self.pictures)
        if not visual.has_pictures:
            await player.run()
            return
        pictures = asyncio.create_task(visual.run(player.clock.now_ms()))
        try:
            await player.run()
        finally:
            pictures.cancel()
            await asyncio.gather(pictures, return_exceptions=True)

    async def finish(self, reason: int) -> None:
        """TERMINATED with `reason` on signaling, then close every socket with 1000."""
        if self.ended:
            return
        self.ended = True
        if self._reconnect_timer is not None:
            self._reconnect_timer.cancel()
            self._reconnect_timer = None
        self.report.stop_reason = int(reason)
        stamp = self.clock.wire(self.clock.now_ms()) if self.clock else now_ms()
        update = StreamStateUpdate(self.rtms_stream_id, StreamState.TERMINATED, int(reason), stamp)
        await self.send_signaling(update, "stream_state", (StreamState.TERMINATED, int(reason)))
        sockets = [conn for conn, _, _ in self.media.values()]
        if self.signaling is not None:
            sockets.append(self.signaling)
        self.media.clear()
        self.signaling = None
        await asyncio.gather(*(conn.close("stream ended") for conn in sockets))
