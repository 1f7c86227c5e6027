"""Simulator settings, the Zoom products it can pretend to be, and its status-code tables."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from rtms_ingest.protocol import LegacyStatusCode, StatusCode
from rtms_ingest.protocol.products import PRODUCTS, RtmsProduct
from rtms_ingest.simulator.faults import Faults


class Status(Enum):
    """What went wrong in a handshake; each status table gives it a number."""

    OK = "ok"
    INVALID_MESSAGE_TYPE = "invalid message type"
    INVALID_PAYLOAD = "invalid payload"
    UNSUPPORTED_PROTOCOL_VERSION = "unsupported protocol version"
    INVALID_STREAM_ID = "unknown or ended rtms_stream_id"
    INVALID_OWNER_ID = "meeting_uuid/session_id/engagement_id does not match the stream"
    INVALID_SIGNATURE = "invalid signature"
    DUPLICATE_SIGNAL_REQUEST = "duplicate signaling handshake on this connection"
    INVALID_MEDIA_TYPE = "media_type does not match this media URL"
    ALL_CONNECTION_EXISTS = "an 'all' media connection already carries this media type"
    INVALID_AUDIO_CONTENT_TYPE = "invalid audio content_type"
    INVALID_AUDIO_SAMPLE_RATE = "invalid audio sample_rate"
    INVALID_AUDIO_CHANNEL = "invalid audio channel"
    INVALID_AUDIO_CODEC = "invalid audio codec"
    INVALID_AUDIO_DATA_OPT = "invalid audio data_opt"
    INVALID_AUDIO_SEND_RATE = "invalid audio send_rate"
    INVALID_TRANSCRIPT_LANGUAGE = "invalid transcript src_language"


# Table (A), the newer public docs. There is no protocol-version code; INVALID_PAYLOAD is the
# closest, and also what an owner id that does not match the stream gets.
_TABLE_A: dict[Status, int] = {
    Status.OK: StatusCode.OK,
    Status.INVALID_MESSAGE_TYPE: StatusCode.INVALID_MESSAGE_TYPE,
    Status.INVALID_PAYLOAD: StatusCode.INVALID_PAYLOAD,
    Status.UNSUPPORTED_PROTOCOL_VERSION: StatusCode.INVALID_PAYLOAD,
    Status.INVALID_STREAM_ID: StatusCode.INVALID_RTMS_STREAM_ID,
    Status.INVALID_OWNER_ID: StatusCode.INVALID_PAYLOAD,
    Status.INVALID_SIGNATURE: StatusCode.INVALID_SIGNATURE,
    Status.DUPLICATE_SIGNAL_REQUEST: StatusCode.DUPLICATE_SIGNAL_REQUEST,
    Status.INVALID_MEDIA_TYPE: StatusCode.INVALID_MEDIA_TYPE,
    Status.ALL_CONNECTION_EXISTS: StatusCode.MEDIA_DATA_ALL_CONNECTION_EXIST,
    Status.INVALID_AUDIO_CONTENT_TYPE: StatusCode.INVALID_MEDIA_AUDIO_CONTENT_TYPE,
    Status.INVALID_AUDIO_SAMPLE_RATE: StatusCode.INVALID_MEDIA_AUDIO_SAMPLE_RATE,
    Status.INVALID_AUDIO_CHANNEL: StatusCode.INVALID_MEDIA_AUDIO_CHANNEL,
    Status.INVALID_AUDIO_CODEC: StatusCode.INVALID_MEDIA_AUDIO_CODEC,
    Status.INVALID_AUDIO_DATA_OPT: StatusCode.INVALID_MEDIA_AUDIO_DATA_OPT,
    Status.INVALID_AUDIO_SEND_RATE: StatusCode.INVALID_MEDIA_AUDIO_SEND_RATE,
    Status.INVALID_TRANSCRIPT_LANGUAGE: StatusCode.INVALID_MEDIA_TRANSCRIPT_SROUCE_LANGUAGE,
}

# Table (B), Zoom's older mock server. It has no per-field audio codes in the range every copy
# agrees on (0-31), so bad audio params get INVALID_JSON_MSG like any other bad payload.
_TABLE_B: dict[Status, int] = {
    Status.OK: LegacyStatusCode.OK,
    Status.INVALID_MESSAGE_TYPE: LegacyStatusCode.INVALID_MESSAGE_TYPE,
    Status.INVALID_PAYLOAD: LegacyStatusCode.INVALID_JSON_MSG,
    Status.UNSUPPORTED_PROTOCOL_VERSION: LegacyStatusCode.INVALID_JSON_MSG,
    Status.INVALID_STREAM_ID: LegacyStatusCode.INVALID_MEETING_OR_STREAM_ID,
    Status.INVALID_OWNER_ID: LegacyStatusCode.INVALID_MEETING_OR_STREAM_ID,
    Status.INVALID_SIGNATURE: LegacyStatusCode.INVALID_SIGNATURE,
    Status.DUPLICATE_SIGNAL_REQUEST: LegacyStatusCode.DUPLICATE_SIGNAL_REQUEST,
    Status.INVALID_MEDIA_TYPE: LegacyStatusCode.MEDIA_TYPE_INVALID_VALUE,
    Status.ALL_CONNECTION_EXISTS: LegacyStatusCode.MEDIA_DATA_ALL_CONNECTION_EXIST,
}

STATUS_TABLES = ("A", "B")
# When stream time 0 is; see SimulatorConfig.clock_start.
CLOCK_STARTS = ("ready", "webhook")


def status_code(table: str, status: Status) -> int:
    """The number `status` has in status table "A" or "B"."""
    if table == "A":
        return int(_TABLE_A[status])
    return int(_TABLE_B.get(status, LegacyStatusCode.INVALID_JSON_MSG))


@dataclass
class SimulatorConfig:
    """Everything an `RtmsSimulator` needs besides the meeting it plays."""

    client_id: str
    client_secret: str
    webhook_secret_token: str
    webhook_url: str | None = None
    host: str = "127.0.0.1"
    port: int = 0
    speed: float = 1.0
    product: str = "meeting"
    keepalive_interval_s: float = 30.0
    signaling_timeout_s: float = 60.0
    media_timeout_s: float = 65.0
    # Real seconds a playing stream waits for a signaling connection after its last one went
    # away without STREAM_CLOSE_REQ (the client vanished); then it ends with
    # AWAIT_RECONNECTION_TIMEOUT (19) and can no longer be joined (reference §5).
    reconnect_window_s: float = 60.0
    transcript_delay_s: float = 0.2
    status_table: str = "A"
    connect_timeout_s: float = 30.0
    ssl_certfile: str | None = None
    ssl_keyfile: str | None = None
    faults: Faults = field(default_factory=Faults)
    # Unix ms of stream time 0 in every timestamp; None: the wall clock at stream time 0.
    clock_origin_ms: int | None = None
    # Stream time 0. "ready": the first CLIENT_READY_ACK; nothing happens before it, so Zoom's
    # audio buffer (reference §7) is always empty. "webhook": when rtms_started is posted; the
    # meeting goes on from then, and a client that is ready later gets the audio of that gap
    # (its last 60 s) as a burst, unless its handshake said buffer_data false.
    clock_start: str = "ready"
    operator_id: str = "simulated-operator"
    # The fields rtms_started gained in April 2026 (reference §7), for meetings and webinars:
    # the host's account and whether the operator is the meeting's original host. The numeric
    # meeting (or webinar) id is each stream's own.
    account_id: str = "simulated-account"
    is_original_host: bool = True
    # Host name written into every URL (default: host). The official SDK checks a wss://
    # certificate by DNS name only, so wss needs e.g. host="127.0.0.1", advertised "localhost".
    advertised_host: str | None = None

    def __post_init__(self) -> None:
        if self.product not in PRODUCTS:
            raise ValueError(f"product must be one of {tuple(PRODUCTS)}, not {self.product!r}")
        if self.status_table not in STATUS_TABLES:
            raise ValueError(f"status_table must be 'A' or 'B', not {self.status_table!r}")
        if self.clock_start not in CLOCK_STARTS:
            raise ValueError(f"clock_start must be one of {CLOCK_STARTS}, not {self.clock_start!r}")
        positive = (
            "speed",
            "keepalive_interval_s",
            "signaling_timeout_s",
            "media_timeout_s",
            "reconnect_window_s",
            "connect_timeout_s",
        )
        for name in positive:
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        if self.transcript_delay_s < 0:
            raise ValueError(f"transcript_delay_s must not be negative: {self.transcript_delay_s}")
        if (self.ssl_certfile is None) != (self.ssl_keyfile is None):
            raise ValueError("ssl_certfile and ssl_keyfile go together: give both or neither")

    @property
    def product_info(self) -> RtmsProduct:
        """The webhook names and id field of the configured product."""
        return PRODUCTS[self.product]

    def status(self, status: Status) -> int:
        """The status code this simulator sends for `status`."""
        return status_code(self.status_table, status)
