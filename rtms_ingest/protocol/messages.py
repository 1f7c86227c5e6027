"""Sans-I/O model of the Zoom RTMS wire protocol: build, encode and parse every message.

Pure code: no sockets, no Django, no asyncio. Wire names and shapes follow
docs/rtms-protocol.md. Every message is a frozen dataclass whose fields are the wire fields:
a field without a default is required on the wire, one with a default (or None) optional, and
None is left out when encoding. Parsing is strict about the types of the fields it knows,
ignores fields it does not know, and raises `ProtocolError`, and nothing else, for any bad
input. Enum-typed fields stay plain `int` in parsed messages so that values Zoom adds later
still parse; the enums are for building messages and comparing.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, NoReturn, Self, TypeAlias, cast, get_args

from rtms_ingest.protocol.codec import (
    ProtocolError,
    _codecs,
    _decode_fields,
    _describe,
    _Fields,
    _Message,
    _Part,
)
from rtms_ingest.protocol.enums import (
    MEDIA_URL_KEYS,
    AudioChannel,
    AudioCodec,
    AudioContentType,
    AudioDataOption,
    AudioSampleRate,
    EventType,
    LegacyStatusCode,
    MediaType,
    MsgType,
    SessionState,
    StatusCode,
    StopReason,
    StreamState,
    TextContentType,
    TranscriptLanguage,
    VideoCodec,
    VideoContentType,
    VideoDataOption,
    VideoResolution,
)

__all__ = [
    "MEDIA_URL_KEYS",
    "AudioChannel",
    "AudioCodec",
    "AudioContentType",
    "AudioData",
    "AudioDataOption",
    "AudioMetadata",
    "AudioParams",
    "AudioSampleRate",
    "BinaryContent",
    "ChatData",
    "ChatParams",
    "ClientReadyAck",
    "DataHandshakeRequest",
    "DataHandshakeResponse",
    "DeskshareParams",
    "EventParticipant",
    "EventSubscription",
    "EventSubscriptionItem",
    "EventType",
    "EventUpdate",
    "KeepAliveRequest",
    "KeepAliveResponse",
    "LegacyStatusCode",
    "MediaParams",
    "MediaType",
    "Message",
    "MsgType",
    "ProtocolError",
    "ReservedMetadata",
    "RtmsEvent",
    "SessionState",
    "SessionStateRequest",
    "SessionStateResponse",
    "SessionStateUpdate",
    "ShareData",
    "SignalingHandshakeRequest",
    "SignalingHandshakeResponse",
    "StatusCode",
    "StopReason",
    "StreamCloseRequest",
    "StreamCloseResponse",
    "StreamState",
    "StreamStateRequest",
    "StreamStateResponse",
    "StreamStateUpdate",
    "TextContent",
    "TextContentType",
    "TranscriptData",
    "TranscriptLanguage",
    "TranscriptParams",
    "UnknownMessage",
    "VideoCodec",
    "VideoContentType",
    "VideoData",
    "VideoDataOption",
    "VideoParams",
    "VideoResolution",
    "VideoSubscriptionRequest",
    "VideoSubscriptionResponse",
    "encode_message",
    "encode_message_bytes",
    "handshake_signature",
    "parse_loaded",
    "parse_message",
    "verify_handshake_signature",
]


def handshake_signature(
    client_id: str, client_secret: str, stream_owner_id: str, rtms_stream_id: str
) -> str:
    """Lowercase hex HMAC-SHA256(client_secret, "client_id,stream_owner_id,rtms_stream_id")."""
    message = f"{client_id},{stream_owner_id},{rtms_stream_id}".encode()
    return hmac.new(client_secret.encode(), message, hashlib.sha256).hexdigest()


def verify_handshake_signature(
    signature: str, client_id: str, client_secret: str, stream_owner_id: str, rtms_stream_id: str
) -> bool:
    """Whether `signature` is the handshake signature, compared in constant time."""
    # Called with untrusted values straight from a frame: anything odd is simply "not valid".
    try:
        expected = handshake_signature(client_id, client_secret, stream_owner_id, rtms_stream_id)
        return hmac.compare_digest(expected.encode(), signature.encode())
    except (AttributeError, TypeError, ValueError):
        return False


# ---------------------------------------------------------------------------------------------
# Media parameters of a data handshake (§3.1)


@dataclass(frozen=True, slots=True)
class AudioParams(_Part):
    """`media_params.audio`; send_rate is the frame duration in ms."""

    content_type: int | None = None
    codec: int | None = None
    sample_rate: int | None = None
    channel: int | None = None
    data_opt: int | None = None
    send_rate: int | None = None
    frame_size: int | None = None


@dataclass(frozen=True, slots=True)
class VideoParams(_Part):
    """`media_params.video`."""

    content_type: int | None = None
    codec: int | None = None
    resolution: int | None = None
    data_opt: int | None = None
    fps: int | None = None


@dataclass(frozen=True, slots=True)
class DeskshareParams(_Part):
    """`media_params.deskshare`."""

    content_type: int | None = None
    codec: int | None = None
    resolution: int | None = None
    fps: int | None = None


@dataclass(frozen=True, slots=True)
class TranscriptParams(_Part):
    """`media_params.transcript`; src_language is a TranscriptLanguage."""

    content_type: int | None = None
    src_language: int | None = None
    enable_lid: bool | None = None


@dataclass(frozen=True, slots=True)
class ChatParams(_Part):
    """`media_params.chat`."""

    content_type: int | None = None


@dataclass(frozen=True, slots=True)
class MediaParams(_Part):
    """`media_params` of a data handshake request or response; absent kinds are None."""

    audio: AudioParams | None = None
    video: VideoParams | None = None
    deskshare: DeskshareParams | None = None
    transcript: TranscriptParams | None = None
    chat: ChatParams | None = None


# ---------------------------------------------------------------------------------------------
# Handshakes (§2.4, §2.5, §3.1, §3.2)


def _or(value: Any, default: Any) -> Any:
    return default if value is None else value


def _first_present(*ids: str | None) -> str | None:
    return next((i for i in ids if i is not None), None)


@dataclass(frozen=True, slots=True)
class SignalingHandshakeRequest(_Message):
    """SIGNALING_HAND_SHAKE_REQ (1); `sequence` defaults to 0 when a frame lacks it.

    `buffer_data` (§7, April 2026): whether Zoom delivers the audio it kept since the
    `rtms_started` webhook after CLIENT_READY_ACK; absent (None) means Zoom's default, true.
    """

    MSG_TYPE: ClassVar[MsgType] = MsgType.SIGNALING_HAND_SHAKE_REQ
    rtms_stream_id: str
    signature: str
    sequence: int
    meeting_uuid: str | None = None
    session_id: str | None = None
    engagement_id: str | None = None
    protocol_version: int = 1
    rtms_client_agent: str | None = None
    buffer_data: bool | None = None

    @property
    def stream_owner_id(self) -> str | None:
        """The id the signature covers: meeting_uuid, else session_id, else engagement_id."""
        return _first_present(self.meeting_uuid, self.session_id, self.engagement_id)

    @classmethod
    def _parse(cls, f: _Fields) -> Self:
        f.require_stream_owner()
        return cls(**_decode_fields(cls, f, sequence=0))


@dataclass(frozen=True, slots=True)
class SignalingHandshakeResponse(_Message):
    """SIGNALING_HAND_SHAKE_RESP (2); server_urls and srtp_keys travel in `media_server`.

    `media_server` is left out when both are None (as in an error reply).
    """

    MSG_TYPE: ClassVar[MsgType] = MsgType.SIGNALING_HAND_SHAKE_RESP
    status_code: int
    sequence: int = 0
    protocol_version: int = 1
    reason: str = ""
    server_urls: dict[str, str] | None = None
    srtp_keys: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON object, with server_urls and srtp_keys nested in media_server."""
        out = _Message.to_dict(self)
        media_server = {key: out.pop(key) for key in ("server_urls", "srtp_keys") if key in out}
        return {**out, "media_server": media_server} if media_server else out

    @classmethod
    def _parse(cls, f: _Fields) -> Self:
        media_server = f.sub("media_server", False)
        return cls(
            status_code=f.typed("status_code", int, True),
            sequence=_or(f.typed("sequence", int, False), 0),
            protocol_version=_or(f.typed("protocol_version", int, False), 1),
            reason=_or(f.typed("reason", str, False), ""),
            server_urls=media_server.str_dict("server_urls", False) if media_server else None,
            srtp_keys=media_server.json_object("srtp_keys", False) if media_server else None,
        )


@dataclass(frozen=True, slots=True)
class DataHandshakeRequest(_Message):
    """DATA_HAND_SHAKE_REQ (3) on a media socket; media_params null or absent parse to None."""

    MSG_TYPE: ClassVar[MsgType] = MsgType.DATA_HAND_SHAKE_REQ
    rtms_stream_id: str
    signature: str
    media_type: int
    sequence: int = 0
    meeting_uuid: str | None = None
    session_id: str | None = None
    engagement_id: str | None = None
    protocol_version: int = 1
    payload_encryption: bool | None = None
    media_params: MediaParams | None = None

    @property
    def stream_owner_id(self) -> str | None:
        """The id the signature covers: meeting_uuid, else session_id, else engagement_id."""
        return _first_present(self.meeting_uuid, self.session_id, self.engagement_id)

    @classmethod
    def _parse(cls, f: _Fields) -> Self:
        f.require_stream_owner()
        return cls(**_decode_fields(cls, f))


@dataclass(frozen=True, slots=True)
class DataHandshakeResponse(_Message):
    """DATA_HAND_SHAKE_RESP (4) with the negotiated media_params."""

    MSG_TYPE: ClassVar[MsgType] = MsgType.DATA_HAND_SHAKE_RESP
    status_code: int
    sequence: int = 0
    protocol_version: int = 1
    reason: str = ""
    payload_encrypted: bool = False
    media_params: MediaParams | None = None


# ---------------------------------------------------------------------------------------------
# Events, stream and session control (§2.8)


@dataclass(frozen=True, slots=True)
class EventSubscriptionItem(_Part):
    """One entry of EVENT_SUBSCRIPTION.events; event_type is an EventType."""

    event_type: int
    subscribe: bool


@dataclass(frozen=True, slots=True)
class EventSubscription(_Message):
    """EVENT_SUBSCRIPTION (5), client to server on signaling; no reply is expected."""

    MSG_TYPE: ClassVar[MsgType] = MsgType.EVENT_SUBSCRIPTION
    events: tuple[EventSubscriptionItem, ...]


@dataclass(frozen=True, slots=True)
class EventParticipant(_Part):
    """One entry of EVENT_UPDATE.event.participants."""

    user_id: int
    user_name: str | None = None


@dataclass(frozen=True, slots=True)
class RtmsEvent(_Part):
    """EVENT_UPDATE.event; which fields appear depends on event_type (§2.8).

    An empty `participants` is left out when encoding.
    """

    event_type: int
    timestamp: int | None = None
    user_id: int | None = None
    user_name: str | None = None
    participants: tuple[EventParticipant, ...] = ()


@dataclass(frozen=True, slots=True)
class EventUpdate(_Message):
    """EVENT_UPDATE (6), server to client on signaling."""

    MSG_TYPE: ClassVar[MsgType] = MsgType.EVENT_UPDATE
    event: RtmsEvent


@dataclass(frozen=True, slots=True)
class ClientReadyAck(_Message):
    """CLIENT_READY_ACK (7), on signaling once every media socket has handshaken."""

    MSG_TYPE: ClassVar[MsgType] = MsgType.CLIENT_READY_ACK
    rtms_stream_id: str


@dataclass(frozen=True, slots=True)
class StreamStateUpdate(_Message):
    """STREAM_STATE_UPDATE (8); state is a StreamState, reason a StopReason."""

    MSG_TYPE: ClassVar[MsgType] = MsgType.STREAM_STATE_UPDATE
    rtms_stream_id: str
    state: int
    reason: int = 0
    timestamp: int | None = None


@dataclass(frozen=True, slots=True)
class SessionStateUpdate(_Message):
    """SESSION_STATE_UPDATE (9); state is a SessionState, reason a StopReason."""

    MSG_TYPE: ClassVar[MsgType] = MsgType.SESSION_STATE_UPDATE
    rtms_session_id: str
    state: int
    reason: int = 0
    timestamp: int | None = None


@dataclass(frozen=True, slots=True)
class SessionStateRequest(_Message):
    """SESSION_STATE_REQ (10); shape UNCONFIRMED (reference §2.8), so every field optional."""

    MSG_TYPE: ClassVar[MsgType] = MsgType.SESSION_STATE_REQ
    rtms_session_id: str | None = None


@dataclass(frozen=True, slots=True)
class SessionStateResponse(_Message):
    """SESSION_STATE_RESP (11); shape UNCONFIRMED (reference §2.8), so every field optional."""

    MSG_TYPE: ClassVar[MsgType] = MsgType.SESSION_STATE_RESP
    rtms_session_id: str | None = None
    state: int | None = None


@dataclass(frozen=True, slots=True)
class KeepAliveResponse(_Message):
    """KEEP_ALIVE_RESP (13): echoes the request's timestamp and sequence."""

    MSG_TYPE: ClassVar[MsgType] = MsgType.KEEP_ALIVE_RESP
    timestamp: int | None = None
    sequence: int | None = None


@dataclass(frozen=True, slots=True)
class KeepAliveRequest(_Message):
    """KEEP_ALIVE_REQ (12) on every socket; the official SDK ignores one without sequence."""

    MSG_TYPE: ClassVar[MsgType] = MsgType.KEEP_ALIVE_REQ
    timestamp: int
    sequence: int | None = None

    def answer(self) -> KeepAliveResponse:
        """The response that echoes this request."""
        return KeepAliveResponse(timestamp=self.timestamp, sequence=self.sequence)


@dataclass(frozen=True, slots=True)
class StreamStateRequest(_Message):
    """STREAM_STATE_REQ (19); shape UNCONFIRMED (reference §2.8), so every field optional."""

    MSG_TYPE: ClassVar[MsgType] = MsgType.STREAM_STATE_REQ
    rtms_stream_id: str | None = None


@dataclass(frozen=True, slots=True)
class StreamStateResponse(_Message):
    """STREAM_STATE_RESP (20); shape UNCONFIRMED (reference §2.8), so every field optional."""

    MSG_TYPE: ClassVar[MsgType] = MsgType.STREAM_STATE_RESP
    rtms_stream_id: str | None = None
    state: int | None = None
    reason: int | None = None


@dataclass(frozen=True, slots=True)
class StreamCloseRequest(_Message):
    """STREAM_CLOSE_REQ (21): the client asks to end the stream."""

    MSG_TYPE: ClassVar[MsgType] = MsgType.STREAM_CLOSE_REQ
    rtms_stream_id: str


@dataclass(frozen=True, slots=True)
class StreamCloseResponse(_Message):
    """STREAM_CLOSE_RESP (22); shape UNCONFIRMED (reference §2.8)."""

    MSG_TYPE: ClassVar[MsgType] = MsgType.STREAM_CLOSE_RESP
    rtms_stream_id: str | None = None
    status_code: int = 0
    reason: str = ""


@dataclass(frozen=True, slots=True)
class VideoSubscriptionRequest(_Message):
    """VIDEO_SUBSCRIPTION_REQ (28); shape from SDK strings, UNCONFIRMED on real Zoom."""

    MSG_TYPE: ClassVar[MsgType] = MsgType.VIDEO_SUBSCRIPTION_REQ
    user_id: int
    subscribe: bool
    timestamp: int | None = None


@dataclass(frozen=True, slots=True)
class VideoSubscriptionResponse(_Message):
    """VIDEO_SUBSCRIPTION_RESP (29); shape from SDK strings, UNCONFIRMED on real Zoom."""

    MSG_TYPE: ClassVar[MsgType] = MsgType.VIDEO_SUBSCRIPTION_RESP
    user_id: int
    status_code: int = 0
    reason: str = ""
    timestamp: int | None = None
    sequence: int | None = None


# ---------------------------------------------------------------------------------------------
# Media data (§3.3)


@dataclass(frozen=True, slots=True)
class BinaryContent(_Part):
    """`content` of audio, video and share data: `data` is base64 on the wire.

    A `data:<mime>;base64,` prefix (seen in samples for share and video) is tolerated when
    parsing; encoding never writes one. `length` is Zoom's April 2026 addition (reference §7):
    read as the size of `data` in bytes, decoded (UNCONFIRMED: the changelog names the field
    only), so a client that finds another number logs it and keeps the data as sent.
    """

    data: bytes
    timestamp: int
    user_id: int | None = None
    user_name: str | None = None
    channel_id: int | None = None
    length: int | None = None


@dataclass(frozen=True, slots=True)
class TextContent(_Part):
    """`content` of transcript and chat data: `data` is plain text; attribute is raw JSON."""

    data: str
    timestamp: int
    user_id: int | None = None
    user_name: str | None = None
    channel_id: int | None = None
    start_time: int | None = None
    end_time: int | None = None
    language: int | None = None
    attribute: Any = None


@dataclass(frozen=True, slots=True)
class AudioData(_Message):
    """MEDIA_DATA_AUDIO (14): one audio frame."""

    MSG_TYPE: ClassVar[MsgType] = MsgType.MEDIA_DATA_AUDIO
    content: BinaryContent


@dataclass(frozen=True, slots=True)
class VideoData(_Message):
    """MEDIA_DATA_VIDEO (15): one frame (H.264 Annex-B, JPG or PNG)."""

    MSG_TYPE: ClassVar[MsgType] = MsgType.MEDIA_DATA_VIDEO
    content: BinaryContent


@dataclass(frozen=True, slots=True)
class ShareData(_Message):
    """MEDIA_DATA_SHARE (16): one deskshare frame."""

    MSG_TYPE: ClassVar[MsgType] = MsgType.MEDIA_DATA_SHARE
    content: BinaryContent


@dataclass(frozen=True, slots=True)
class TranscriptData(_Message):
    """MEDIA_DATA_TRANSCRIPT (17): one utterance.

    The official SDK requires content.start_time and end_time; this parser accepts frames
    without them (None), so that a sparser server is still understood.
    """

    MSG_TYPE: ClassVar[MsgType] = MsgType.MEDIA_DATA_TRANSCRIPT
    content: TextContent


@dataclass(frozen=True, slots=True)
class ChatData(_Message):
    """MEDIA_DATA_CHAT (18): one chat message."""

    MSG_TYPE: ClassVar[MsgType] = MsgType.MEDIA_DATA_CHAT
    content: TextContent


@dataclass(frozen=True, slots=True)
class AudioMetadata(_Message):
    """META_DATA_AUDIO (23): AI-interpreter metadata, kept as raw JSON (nesting UNCONFIRMED)."""

    MSG_TYPE: ClassVar[MsgType] = MsgType.META_DATA_AUDIO
    interpreter: dict[str, Any]


def _raw_message(msg_type: int, body: Mapping[str, Any]) -> dict[str, Any]:
    return {"msg_type": int(msg_type), **{k: v for k, v in body.items() if k != "msg_type"}}


@dataclass(frozen=True, slots=True)
class ReservedMetadata(_Message):
    """META_DATA_VIDEO/SHARE/TRANSCRIPT/CHAT (24-27), reserved: every field but msg_type, raw.

    MSG_TYPE is the first of that range; the instance's `msg_type` is the real one.
    """

    MSG_TYPE: ClassVar[MsgType] = MsgType.META_DATA_VIDEO
    msg_type: int
    body: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        """The JSON object: msg_type and the body's fields."""
        return _raw_message(self.msg_type, self.body)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Self:
        """Keep every field of `d` but msg_type (24 to 27); raises ProtocolError."""
        f = _Fields(d, None)
        msg_type = f.typed("msg_type", int, True)
        if msg_type not in _RESERVED_METADATA:
            f.fail("msg_type", f"expected 24 to 27, got {msg_type}")
        return cls(msg_type=msg_type, body={k: v for k, v in d.items() if k != "msg_type"})


_RESERVED_METADATA = range(MsgType.META_DATA_VIDEO, MsgType.META_DATA_CHAT + 1)


@dataclass(frozen=True, slots=True)
class UnknownMessage(_Message):
    """A message whose msg_type this module does not model (0, or a future number), kept raw.

    `body` is every field but msg_type. Encoding one whose msg_type is modelled makes a frame
    that parses as that message's class, or not at all.
    """

    MSG_TYPE: ClassVar[MsgType] = MsgType.UNDEFINED
    msg_type: int
    body: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        """The JSON object: msg_type and the body's fields."""
        return _raw_message(self.msg_type, self.body)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Self:
        """Keep every field of `d` but msg_type; raises ProtocolError."""
        msg_type = _Fields(d, None).typed("msg_type", int, True)
        return cls(msg_type=msg_type, body={k: v for k, v in d.items() if k != "msg_type"})


# ---------------------------------------------------------------------------------------------
# Frames

Message: TypeAlias = (
    SignalingHandshakeRequest
    | SignalingHandshakeResponse
    | DataHandshakeRequest
    | DataHandshakeResponse
    | EventSubscription
    | EventUpdate
    | ClientReadyAck
    | StreamStateUpdate
    | SessionStateUpdate
    | SessionStateRequest
    | SessionStateResponse
    | KeepAliveRequest
    | KeepAliveResponse
    | AudioData
    | VideoData
    | ShareData
    | TranscriptData
    | ChatData
    | StreamStateRequest
    | StreamStateResponse
    | StreamCloseRequest
    | StreamCloseResponse
    | AudioMetadata
    | ReservedMetadata
    | VideoSubscriptionRequest
    | VideoSubscriptionResponse
    | UnknownMessage
)

_CLASSES: dict[int, type[_Message]] = {
    cls.MSG_TYPE: cls for cls in get_args(Message) if cls not in (ReservedMetadata, UnknownMessage)
}
_CLASSES.update(dict.fromkeys(_RESERVED_METADATA, ReservedMetadata))

# Build every field codec now, so that a field type the codec cannot handle fails at import.
for _cls in tuple(globals().values()):
    if isinstance(_cls, type) and issubclass(_cls, _Part) and _cls not in (_Part, _Message):
        _codecs(_cls)


def _reject_constant(name: str) -> NoReturn:
    raise ProtocolError(f"frame is not strict JSON: {name}")


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise ProtocolError(f"frame is not strict JSON: {text[:20]} is out of range")
    return value


def _load_json(frame: object) -> object:
    if isinstance(frame, str):
        text = frame
    elif isinstance(frame, bytes | bytearray | memoryview):
        try:
            text = bytes(frame).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ProtocolError(f"frame is not UTF-8 (bad byte at {exc.start})") from None
        except (TypeError, ValueError) as exc:  # e.g. a released memoryview
            raise ProtocolError(f"frame is unreadable: {exc}") from None
    else:
        raise ProtocolError(f"frame must be str or bytes, not {type(frame).__name__}")
    try:
        return json.loads(text, parse_constant=_reject_constant, parse_float=_finite_float)
    except ProtocolError:
        raise
    except json.JSONDecodeError as exc:
        raise ProtocolError(f"frame is not JSON: {exc.msg} at {exc.lineno}:{exc.colno}") from None
    except ValueError as exc:  # an integer past Python's digit limit
        raise ProtocolError(f"frame is not acceptable JSON: {exc}") from None
    except RecursionError:
        raise ProtocolError("frame is nested too deeply") from None


def parse_message(frame: str | bytes | bytearray | memoryview) -> Message:
    """Parse one text or binary WebSocket frame; raises ProtocolError, never anything else."""
    return parse_loaded(_load_json(frame))


def parse_loaded(data: object) -> Message:
    """Parse a frame's already-loaded JSON value (see `parse_message`)."""
    if not isinstance(data, dict):
        raise ProtocolError(f"frame is {_describe(data)}, not a JSON object")
    msg_type = data.get("msg_type")
    if msg_type is None:
        raise ProtocolError("msg_type: missing required field")
    if isinstance(msg_type, bool) or not isinstance(msg_type, int):
        raise ProtocolError(f"msg_type: expected an integer, got {_describe(msg_type)}")
    cls = _CLASSES.get(msg_type, UnknownMessage)
    try:
        return cast("Message", cls.from_dict(data))
    except ProtocolError:
        raise
    except (LookupError, TypeError, ValueError, AttributeError) as exc:  # pragma: no cover
        # Callers drop bad frames and carry on; a parser bug must reach them the same way.
        raise ProtocolError(f"unparseable: {type(exc).__name__}: {exc}", msg_type) from exc


def encode_message(message: Message) -> str:
    """Compact JSON text; ValueError if a raw JSON field holds NaN or an infinity."""
    return json.dumps(message.to_dict(), separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def encode_message_bytes(message: Message) -> bytes:
    """UTF-8 of `encode_message(message)`, for binary frames."""
    try:
        return encode_message(message).encode("utf-8")
    except UnicodeEncodeError:
        # Lone surrogates (legal in JSON through \u escapes) have no UTF-8 form; escaping every
        # non-ASCII character keeps the frame valid and parses back to the same strings.
        text = json.dumps(message.to_dict(), separators=(",", ":"), allow_nan=False)
        return text.encode("ascii")
