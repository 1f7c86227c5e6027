"""What happened while one stream played: the record tests and benchmarks read afterwards."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class SentFrame:
    """One frame the simulator sent, stamped just before it went to the socket.

    `key` by kind:
    - "transcript": (user_id, start_time_ms); "chat": (user_id, timestamp_ms)
    - "audio": (user_id, timestamp_ms, pcm_byte_count); user_id 0 for the mixed stream
    - "event": (event_type, *user_ids); "keepalive": (socket, sequence)
    - "session_state" / "stream_state": (state, reason); "handshake": (msg_type, status_code)
    - "close_response": (rtms_stream_id,); "state_response": (msg_type,); "malformed": (socket,)
    """

    kind: str
    monotonic_ns: int
    key: tuple[Any, ...]
    socket: str = ""


@dataclass(frozen=True)
class BufferedAudio:
    """The audio due before the first CLIENT_READY_ACK (clock_start "webhook") and its fate.

    Stream ms throughout; the burst frames are also in `StreamReport.sent` (kind "audio").
    """

    buffer_data: bool | None  # as the client's handshake said; None (absent) means true
    ready_ms: int  # stream time of the CLIENT_READY_ACK: the burst holds audio due by then
    due_frames: int  # frames due before it, for the audio params the client negotiated
    sent_frames: int  # of those, sent right after it, in order (at most the last 60 s)
    sent_bytes: int  # PCM bytes of those
    first_ms: int | None  # where the first burst frame starts (None: nothing sent)
    end_ms: int | None  # where the last burst frame ends

    @property
    def dropped_frames(self) -> int:
        """Frames due before ready but never sent: older than 60 s, or buffer_data false."""
        return self.due_frames - self.sent_frames


@dataclass(frozen=True)
class TranscriptAsk:
    """What one data handshake carrying the transcript asked of it, and the status answered.

    None where the request left the field (or the whole `media_params.transcript`) out.
    """

    socket: str  # "transcript" or "all"
    src_language: int | None
    enable_lid: bool | None
    status_code: int


@dataclass(frozen=True)
class TextDelivery:
    """A transcript utterance or chat line that fell due, and whether a client socket got it.

    Delivered means written to an open socket of the stream: a client that dies at that very
    moment can still lose it, but one that was not connected certainly did. Times are stream
    ms (as in the recording, not the wire), the Unix ms and time.monotonic_ns() of the send.
    With clock_start "webhook", text due before the first client was ready is recorded as
    undelivered at the ready time (Zoom buffers only audio).
    """

    kind: str  # "transcript" or "chat"
    key: tuple[Any, ...]  # as the SentFrame's: (user_id, wire start_time or timestamp)
    user_id: int
    start_ms: int  # transcript: the utterance's start; chat: when it was sent
    end_ms: int  # transcript: the utterance's end; chat: start_ms
    text: str
    due_ms: int  # when the simulator was to send it
    delivered: bool
    stream_ms: int  # when it was sent (or found no socket)
    wall_ms: int
    monotonic_ns: int
    socket: str  # the socket that carried it ("media:transcript", "media:all"); "" if none
    session: int  # accepted signaling handshakes so far: 1 = the first client, 2 = a rejoin ...


@dataclass
class SignalingOutage:
    """A stretch of a playing stream without a signaling connection (a client vanished).

    Stream ms and Unix ms; `to_*` stay None when no client came back before the end.
    """

    from_ms: int
    from_wall_ms: int
    to_ms: int | None = None
    to_wall_ms: int | None = None


@dataclass
class StreamReport:
    """Everything observable about one played stream."""

    rtms_stream_id: str
    stream_owner_id: str
    joined: bool = False
    status_codes: list[int] = field(default_factory=list)
    sent: list[SentFrame] = field(default_factory=list)
    client_agents: list[str] = field(default_factory=list)
    keepalive_answers: dict[str, int] = field(default_factory=dict)
    dropped_for_missed_keepalive: bool = False
    stop_reason: int | None = None
    # Unix ms of stream time 0; every timestamp, start_time and end_time is relative to it.
    clock_origin_ms: int | None = None
    # time.monotonic_ns() at stream time 0, and the playback speed: when each frame was due.
    clock_start_ns: int | None = None
    speed: float = 1.0
    signaling_connections: int = 0
    kicked_connections: int = 0
    refused_signatures: int = 0
    received: list[int] = field(default_factory=list)
    malformed_client_frames: int = 0
    media_params: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Every data handshake that asked for the transcript, in order, refused ones included.
    transcript_asks: list[TranscriptAsk] = field(default_factory=list)
    event_subscriptions: dict[int, bool] = field(default_factory=dict)
    webhooks: list[str] = field(default_factory=list)
    faults_fired: list[str] = field(default_factory=list)
    # buffer_data of each accepted signaling handshake; None where the client left it out.
    buffer_data: list[bool | None] = field(default_factory=list)
    # clock_start "webhook" only: the audio buffered until the first CLIENT_READY_ACK.
    buffered_audio: BufferedAudio | None = None
    # Every transcript utterance and chat line that fell due, delivered or not, in due order.
    texts: list[TextDelivery] = field(default_factory=list)
    # Signaling handshakes accepted after the first CLIENT_READY_ACK (the client came back,
    # or another one took the stream over), and those refused because the stream was over.
    rejoins: int = 0
    refused_after_end: int = 0
    signaling_outages: list[SignalingOutage] = field(default_factory=list)

    def frames(self, kind: str) -> list[SentFrame]:
        """The sent frames of one kind, in the order they were sent."""
        return [frame for frame in self.sent if frame.kind == kind]

    @property
    def audio_bytes(self) -> int:
        """PCM bytes sent in MEDIA_DATA_AUDIO frames (before base64)."""
        return sum(frame.key[2] for frame in self.sent if frame.kind == "audio")

    def due_ns(self, stream_ms: float) -> int:
        """time.monotonic_ns() at which stream time `stream_ms` was due (after playback began)."""
        if self.clock_start_ns is None:
            raise ValueError("the stream never started playing")
        return self.clock_start_ns + round(stream_ms / self.speed * 1_000_000)

    def delivered(self, kind: str = "transcript") -> list[TextDelivery]:
        """The transcript utterances (or chat lines) written to a client socket."""
        return [text for text in self.texts if text.kind == kind and text.delivered]

    def undelivered(self, kind: str = "transcript") -> list[TextDelivery]:
        """The transcript utterances (or chat lines) that fell due with no socket to carry them."""
        return [text for text in self.texts if text.kind == kind and not text.delivered]

    @property
    def transcript_keys(self) -> list[tuple[Any, ...]]:
        """(user_id, start_time_ms) of every transcript sent."""
        return [frame.key for frame in self.sent if frame.kind == "transcript"]
