"""Fault switches for tests: break the simulated Zoom in the ways real Zoom breaks."""

from __future__ import annotations

from dataclasses import dataclass

DROP_TARGETS = ("signaling", "media")
BAD_SIGNATURE_MODES = ("status", "close")

# Truncated JSON with a plausible start, so a client's parser (not its framing) has to cope.
MALFORMED_FRAME = '{"msg_type":17,"content":{"user_id":1,"data":"trunc'
# A chat-group event whose `participants` is an object, not the array other events use: its
# shape is UNCONFIRMED, so a client must cope with one it cannot read.
CHAT_GROUP_ODD_EVENT = (
    '{"msg_type":6,"event":{"event_type":12,"timestamp":0,"participants":{"user_id":1}}}'
)


@dataclass
class Faults:
    """Which faults to inject; all off by default. Times are on the stream clock (seconds)."""

    drop_socket_at_s: float | None = None
    drop_socket: str = "signaling"
    stop_keepalives: bool = False
    malformed_frame_at_s: float | None = None
    refuse_signature: bool = False
    bad_signature_mode: str = "status"
    # The signaling answer's media URLs on this base (e.g. "ws://10.0.0.5:6379") instead of
    # the simulator's own: a compromised or impersonated server sending the client elsewhere.
    media_url_base: str | None = None
    # Zoom refuses the stream: the app is at its plan's limit of concurrent streams. It posts
    # `<product>.rtms_concurrency_limited` {meeting_uuid, account_id} (changelog 2025-07-21 and
    # 2025-09-11; other fields UNCONFIRMED) instead of rtms_started, and nothing follows.
    concurrency_limited: bool = False
    # Chat-group events (EVENT_UPDATE 10-14, reference §7) at this stream time: each of the
    # five as far as the reference documents them ({event_type, timestamp}), then one shaped
    # in a way our parser refuses (CHAT_GROUP_ODD_EVENT), as a server may send what no one has
    # documented.
    chat_group_events_at_s: float | None = None

    def __post_init__(self) -> None:
        if self.drop_socket not in DROP_TARGETS:
            raise ValueError(f"drop_socket must be one of {DROP_TARGETS}, not {self.drop_socket!r}")
        if self.bad_signature_mode not in BAD_SIGNATURE_MODES:
            raise ValueError(
                f"bad_signature_mode must be one of {BAD_SIGNATURE_MODES}, "
                f"not {self.bad_signature_mode!r}"
            )
        for name in ("drop_socket_at_s", "malformed_frame_at_s", "chat_group_events_at_s"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise ValueError(f"{name} must not be negative, got {value}")
