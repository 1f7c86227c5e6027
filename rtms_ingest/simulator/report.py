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
    event_subscriptions: dict[int, bool] = field(default_factory=dict)
    webhooks: list[str] = field(default_factory=list)
    faults_fired: list[str] = field(default_factory=list)

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

    @property
    def transcript_keys(self) -> list[tuple[Any, ...]]:
        """(user_id, start_time_ms) of every transcript sent."""
        return [frame.key for frame in self.sent if frame.kind == "transcript"]
