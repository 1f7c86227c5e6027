"""Sans-I/O model of the Zoom RTMS wire protocol: build, encode and parse every message.

Pure code: no sockets, no Django, no asyncio. Wire names and shapes follow
docs/rtms-protocol.md. Parsing is strict about the types of the fields it knows, tolerant of
fields it does not know, and raises `ProtocolError` (and nothing else) for any bad input.
Enum-typed fields stay plain `int` in parsed messages so that values Zoom adds later still
parse; the enums are for building messages and comparing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from typing import Any, ClassVar, NoReturn, Self, TypeAlias, TypeVar

from rtms_ingest._protocol_enums import (
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
    "parse_message",
    "verify_handshake_signature",
]

_T = TypeVar("_T")


class ProtocolError(ValueError):
    """A frame that is not a valid RTMS message: the only exception that parsing raises."""

    def __init__(self, reason: str, msg_type: int | None = None) -> None:
        super().__init__(reason if msg_type is None else f"msg_type {msg_type}: {reason}")
        self.reason = reason
        self.msg_type = msg_type

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.reason, self.msg_type))


# ---------------------------------------------------------------------------------------------
# Handshake signature (§2.3)


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
    # Called with untrusted input straight from a frame: anything odd is just "not valid".
    try:
        expected = handshake_signature(client_id, client_secret, stream_owner_id, rtms_stream_id)
        return hmac.compare_digest(expected.encode(), signature.encode())
    except (AttributeError, TypeError, ValueError):
        return False


# ---------------------------------------------------------------------------------------------
# Typed field access for parsing

_JSON_TYPE_NAMES = {
    bool: "a boolean",
    int: "an integer",
    float: "a number",
    str: "a string",
    list: "an array",
    dict: "an object",
}


def _describe(value: object) -> str:
    if value is None:
        return "null"
    return _JSON_TYPE_NAMES.get(type(value), type(value).__name__)


class _Fields:
    """Typed reads from one JSON object of a frame; every failure is a ProtocolError."""

    __slots__ = ("_data", "_path", "msg_type")

    def __init__(self, data: object, msg_type: int | None, path: str = "") -> None:
        if not isinstance(data, Mapping):
            where = path.rstrip(".") or "message"
            raise ProtocolError(f"{where}: expected an object, got {_describe(data)}", msg_type)
        self._data: Mapping[Any, Any] = data
        self._path = path
        self.msg_type = msg_type

    @classmethod
    def message(cls, data: object, msg_type: MsgType) -> _Fields:
        """Fields of a whole message whose msg_type, if given, must be `msg_type`."""
        f = cls(data, int(msg_type))
        if "msg_type" in f._data:
            found = f._data["msg_type"]
            if isinstance(found, bool) or not isinstance(found, int) or found != msg_type:
                f.fail("msg_type", f"expected {int(msg_type)}, got {found!r}")
        return f

    def fail(self, key: str, problem: str) -> NoReturn:
        raise ProtocolError(f"{self._path}{key}: {problem}", self.msg_type)

    def _get(self, key: str, kind: type, required: bool) -> Any:
        value = self._data.get(key)
        if value is None:
            if required:
                self.fail(key, "missing required field")
            return None
        # bool is an int subclass; JSON true must never pass for a number, nor 1 for true.
        if isinstance(value, bool) != (kind is bool) or not isinstance(value, kind):
            self.fail(key, f"expected {_JSON_TYPE_NAMES[kind]}, got {_describe(value)}")
        return value

    def req_int(self, key: str) -> int:
        return int(self._get(key, int, True))

    def opt_int(self, key: str) -> int | None:
        value = self._get(key, int, False)
        return None if value is None else int(value)

    def req_str(self, key: str) -> str:
        return str(self._get(key, str, True))

    def opt_str(self, key: str) -> str | None:
        value = self._get(key, str, False)
        return None if value is None else str(value)

    def req_bool(self, key: str) -> bool:
        return bool(self._get(key, bool, True))

    def opt_bool(self, key: str) -> bool | None:
        value = self._get(key, bool, False)
        return None if value is None else bool(value)

    def req_dict(self, key: str) -> dict[str, Any]:
        return dict(self._get(key, dict, True))

    def opt_dict(self, key: str) -> dict[str, Any] | None:
        value = self._get(key, dict, False)
        return None if value is None else dict(value)

    def opt_str_dict(self, key: str) -> dict[str, str] | None:
        value = self.opt_dict(key)
        if value is not None:
            for name, item in value.items():
                if not isinstance(name, str) or not isinstance(item, str):
                    self.fail(f"{key}.{name}", f"expected a string, got {_describe(item)}")
        return value

    def req_sub(self, key: str) -> _Fields:
        return _Fields(self._get(key, dict, True), self.msg_type, f"{self._path}{key}.")

    def opt_sub(self, key: str) -> _Fields | None:
        value = self._get(key, dict, False)
        return None if value is None else _Fields(value, self.msg_type, f"{self._path}{key}.")

    def subs(self, key: str, required: bool) -> list[_Fields]:
        items = self._get(key, list, required) or []
        path = f"{self._path}{key}"
        return [_Fields(item, self.msg_type, f"{path}[{i}].") for i, item in enumerate(items)]

    def stream_owner_ids(self) -> tuple[str | None, str | None, str | None]:
        ids = (self.opt_str("meeting_uuid"), self.opt_str("session_id"), self.opt_str("engagement_id"))
        if ids == (None, None, None):
            self.fail("meeting_uuid", "missing (nor session_id nor engagement_id given)")
        return ids

    def b64(self, key: str, allow_data_uri: bool) -> bytes:
        text = self.req_str(key)
        if allow_data_uri and text.startswith("data:"):
            _, marker, text = text.partition(";base64,")
            if not marker:
                self.fail(key, "data: URI without ;base64,")
        try:
            return base64.b64decode(text, validate=True)
        except ValueError:
            self.fail(key, "invalid base64")


def _maybe(fields_: _Fields | None, parse: Callable[[_Fields], _T]) -> _T | None:
    return None if fields_ is None else parse(fields_)


def _plain(value: Any) -> Any:
    # Enum members become plain ints so that to_dict() output compares and dumps as numbers.
    if isinstance(value, int) and not isinstance(value, bool):
        return int(value)
    return value


def _wire(msg_type: MsgType, **values: Any) -> dict[str, Any]:
    """A message dict: msg_type first, then `values` in order, leaving out the Nones."""
    out: dict[str, Any] = {"msg_type": int(msg_type)}
    out.update((key, _plain(value)) for key, value in values.items() if value is not None)
    return out


def _compact(**values: Any) -> dict[str, Any]:
    return {key: _plain(value) for key, value in values.items() if value is not None}


# ---------------------------------------------------------------------------------------------
# Media parameters of a data handshake (§3.1)

_BOOL_PARAMS = frozenset({"enable_lid"})


class _Params:
    """Shared to_dict/from_dict of the per-media parameter dataclasses."""

    __slots__ = ()

    def to_dict(self) -> dict[str, Any]:
        return _compact(**{f.name: getattr(self, f.name) for f in fields(self)})  # type: ignore[arg-type]

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Self:
        return cls._parse(_Fields(d, None))

    @classmethod
    def _parse(cls, f: _Fields) -> Self:
        names = [fld.name for fld in fields(cls)]  # type: ignore[arg-type]
        read = {n: (f.opt_bool(n) if n in _BOOL_PARAMS else f.opt_int(n)) for n in names}
        return cls(**read)


@dataclass(frozen=True, slots=True)
class AudioParams(_Params):
    """`media_params.audio`; send_rate is the frame duration in ms."""

    content_type: int | None = None
    codec: int | None = None
    sample_rate: int | None = None
    channel: int | None = None
    data_opt: int | None = None
    send_rate: int | None = None
    frame_size: int | None = None


@dataclass(frozen=True, slots=True)
class VideoParams(_Params):
    """`media_params.video`."""

    content_type: int | None = None
    codec: int | None = None
    resolution: int | None = None
    data_opt: int | None = None
    fps: int | None = None


@dataclass(frozen=True, slots=True)
class DeskshareParams(_Params):
    """`media_params.deskshare`."""

    content_type: int | None = None
    codec: int | None = None
    resolution: int | None = None
    fps: int | None = None


@dataclass(frozen=True, slots=True)
class TranscriptParams(_Params):
    """`media_params.transcript`; src_language is a TranscriptLanguage."""

    content_type: int | None = None
    src_language: int | None = None
    enable_lid: bool | None = None


@dataclass(frozen=True, slots=True)
class ChatParams(_Params):
    """`media_params.chat`."""

    content_type: int | None = None


@dataclass(frozen=True, slots=True)
class MediaParams:
    """`media_params` of a data handshake request or response; absent kinds are None."""

    audio: AudioParams | None = None
    video: VideoParams | None = None
    deskshare: DeskshareParams | None = None
    transcript: TranscriptParams | None = None
    chat: ChatParams | None = None

    def to_dict(self) -> dict[str, Any]:
        kinds = (self.audio, self.video, self.deskshare, self.transcript, self.chat)
        names = ("audio", "video", "deskshare", "transcript", "chat")
        return {name: p.to_dict() for name, p in zip(names, kinds, strict=True) if p is not None}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Self:
        return cls._parse(_Fields(d, None))

    @classmethod
    def _parse(cls, f: _Fields) -> Self:
        return cls(
            audio=_maybe(f.opt_sub("audio"), AudioParams._parse),
            video=_maybe(f.opt_sub("video"), VideoParams._parse),
            deskshare=_maybe(f.opt_sub("deskshare"), DeskshareParams._parse),
            transcript=_maybe(f.opt_sub("transcript"), TranscriptParams._parse),
            chat=_maybe(f.opt_sub("chat"), ChatParams._parse),
        )


def _media_params_dict(params: MediaParams | None) -> dict[str, Any] | None:
    return None if params is None else params.to_dict()


# ---------------------------------------------------------------------------------------------
# Handshakes (§2.4, §2.5, §3.1, §3.2)


def _first_present(*ids: str | None) -> str | None:
    return next((i for i in ids if i is not None), None)


@dataclass(frozen=True, slots=True)
class SignalingHandshakeRequest:
    """SIGNALING_HAND_SHAKE_REQ (1), client to server; sequence defaults to 0 when parsed."""

    MSG_TYPE: ClassVar[MsgType] = MsgType.SIGNALING_HAND_SHAKE_REQ
    rtms_stream_id: str
    signature: str
    sequence: int
    meeting_uuid: str | None = None
    session_id: str | None = None
    engagement_id: str | None = None
    protocol_version: int = 1
    rtms_client_agent: str | None = None

    @property
    def stream_owner_id(self) -> str | None:
        """The id the signature covers: meeting_uuid, else session_id, else engagement_id."""
        return _first_present(self.meeting_uuid, self.session_id, self.engagement_id)

    def to_dict(self) -> dict[str, Any]:
        return _wire(
            self.MSG_TYPE,
            protocol_version=self.protocol_version,
            meeting_uuid=self.meeting_uuid,
            session_id=self.session_id,
            engagement_id=self.engagement_id,
            rtms_stream_id=self.rtms_stream_id,
            sequence=self.sequence,
            signature=self.signature,
            rtms_client_agent=self.rtms_client_agent,
        )

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Self:
        f = _Fields.message(d, cls.MSG_TYPE)
        meeting_uuid, session_id, engagement_id = f.stream_owner_ids()
        return cls(
            rtms_stream_id=f.req_str("rtms_stream_id"),
            signature=f.req_str("signature"),
            sequence=f.opt_int("sequence") or 0,
            meeting_uuid=meeting_uuid,
            session_id=session_id,
            engagement_id=engagement_id,
            protocol_version=_default(f.opt_int("protocol_version"), 1),
            rtms_client_agent=f.opt_str("rtms_client_agent"),
        )


def _default(value: _T | None, default: _T) -> _T:
    return default if value is None else value


@dataclass(frozen=True, slots=True)
class SignalingHandshakeResponse:
    """SIGNALING_HAND_SHAKE_RESP (2); the URLs and keys travel nested in `media_server`.

    `media_server` is left out when both server_urls and srtp_keys are None (error replies).
    """

    MSG_TYPE: ClassVar[MsgType] = MsgType.SIGNALING_HAND_SHAKE_RESP
    status_code: int
    sequence: int = 0
    protocol_version: int = 1
    reason: str = ""
    server_urls: dict[str, str] | None = None
    srtp_keys: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        media_server = _compact(server_urls=self.server_urls, srtp_keys=self.srtp_keys)
        return _wire(
            self.MSG_TYPE,
            protocol_version=self.protocol_version,
            sequence=self.sequence,
            status_code=self.status_code,
            reason=self.reason,
            media_server=media_server or None,
        )

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Self:
        f = _Fields.message(d, cls.MSG_TYPE)
        media_server = f.opt_sub("media_server")
        return cls(
            status_code=f.req_int("status_code"),
            sequence=_default(f.opt_int("sequence"), 0),
            protocol_version=_default(f.opt_int("protocol_version"), 1),
            reason=_default(f.opt_str("reason"), ""),
            server_urls=media_server.opt_str_dict("server_urls") if media_server else None,
            srtp_keys=media_server.opt_dict("srtp_keys") if media_server else None,
        )


@dataclass(frozen=True, slots=True)
class DataHandshakeRequest:
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

    def to_dict(self) -> dict[str, Any]:
        return _wire(
            self.MSG_TYPE,
            protocol_version=self.protocol_version,
            meeting_uuid=self.meeting_uuid,
            session_id=self.session_id,
            engagement_id=self.engagement_id,
            rtms_stream_id=self.rtms_stream_id,
            sequence=self.sequence,
            signature=self.signature,
            media_type=self.media_type,
            payload_encryption=self.payload_encryption,
            media_params=_media_params_dict(self.media_params),
        )

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Self:
        f = _Fields.message(d, cls.MSG_TYPE)
        meeting_uuid, session_id, engagement_id = f.stream_owner_ids()
        return cls(
            rtms_stream_id=f.req_str("rtms_stream_id"),
            signature=f.req_str("signature"),
            media_type=f.req_int("media_type"),
            sequence=_default(f.opt_int("sequence"), 0),
            meeting_uuid=meeting_uuid,
            session_id=session_id,
            engagement_id=engagement_id,
            protocol_version=_default(f.opt_int("protocol_version"), 1),
            payload_encryption=f.opt_bool("payload_encryption"),
            media_params=_maybe(f.opt_sub("media_params"), MediaParams._parse),
        )


@dataclass(frozen=True, slots=True)
class DataHandshakeResponse:
    """DATA_HAND_SHAKE_RESP (4) with the negotiated media_params."""

    MSG_TYPE: ClassVar[MsgType] = MsgType.DATA_HAND_SHAKE_RESP
    status_code: int
    sequence: int = 0
    protocol_version: int = 1
    reason: str = ""
    payload_encrypted: bool = False
    media_params: MediaParams | None = None

    def to_dict(self) -> dict[str, Any]:
        return _wire(
            self.MSG_TYPE,
            protocol_version=self.protocol_version,
            sequence=self.sequence,
            status_code=self.status_code,
            reason=self.reason,
            payload_encrypted=self.payload_encrypted,
            media_params=_media_params_dict(self.media_params),
        )

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Self:
        f = _Fields.message(d, cls.MSG_TYPE)
        return cls(
            status_code=f.req_int("status_code"),
            sequence=_default(f.opt_int("sequence"), 0),
            protocol_version=_default(f.opt_int("protocol_version"), 1),
            reason=_default(f.opt_str("reason"), ""),
            payload_encrypted=_default(f.opt_bool("payload_encrypted"), False),
            media_params=_maybe(f.opt_sub("media_params"), MediaParams._parse),
        )


# ---------------------------------------------------------------------------------------------
# Events (§2.8)


@dataclass(frozen=True, slots=True)
class EventSubscriptionItem:
    """One entry of EVENT_SUBSCRIPTION.events."""

    event_type: int
    subscribe: bool

    def to_dict(self) -> dict[str, Any]:
        return _compact(event_type=self.event_type, subscribe=self.subscribe)

    @classmethod
    def _parse(cls, f: _Fields) -> Self:
        return cls(event_type=f.req_int("event_type"), subscribe=f.req_bool("subscribe"))


@dataclass(frozen=True, slots=True)
class EventSubscription:
    """EVENT_SUBSCRIPTION (5), client to server on signaling; no reply is expected."""

    MSG_TYPE: ClassVar[MsgType] = MsgType.EVENT_SUBSCRIPTION
    events: tuple[EventSubscriptionItem, ...]

    def to_dict(self) -> dict[str, Any]:
        return _wire(self.MSG_TYPE, events=[e.to_dict() for e in self.events])

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Self:
        f = _Fields.message(d, cls.MSG_TYPE)
        return cls(events=tuple(EventSubscriptionItem._parse(e) for e in f.subs("events", True)))


@dataclass(frozen=True, slots=True)
class EventParticipant:
    """A participant in EVENT_UPDATE.event.participants."""

    user_id: int
    user_name: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return _compact(user_id=self.user_id, user_name=self.user_name)

    @classmethod
    def _parse(cls, f: _Fields) -> Self:
        return cls(user_id=f.req_int("user_id"), user_name=f.opt_str("user_name"))


@dataclass(frozen=True, slots=True)
class RtmsEvent:
    """EVENT_UPDATE.event; which fields appear depends on event_type (§2.8)."""

    event_type: int
    timestamp: int | None = None
    user_id: int | None = None
    user_name: str | None = None
    participants: tuple[EventParticipant, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return _compact(
            event_type=self.event_type,
            timestamp=self.timestamp,
            user_id=self.user_id,
            user_name=self.user_name,
            participants=[p.to_dict() for p in self.participants] or None,
        )

    @classmethod
    def _parse(cls, f: _Fields) -> Self:
        return cls(
            event_type=f.req_int("event_type"),
            timestamp=f.opt_int("timestamp"),
            user_id=f.opt_int("user_id"),
            user_name=f.opt_str("user_name"),
            participants=tuple(EventParticipant._parse(p) for p in f.subs("participants", False)),
        )


@dataclass(frozen=True, slots=True)
class EventUpdate:
    """EVENT_UPDATE (6), server to client on signaling."""

    MSG_TYPE: ClassVar[MsgType] = MsgType.EVENT_UPDATE
    event: RtmsEvent

    def to_dict(self) -> dict[str, Any]:
        return _wire(self.MSG_TYPE, event=self.event.to_dict())

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Self:
        return cls(event=RtmsEvent._parse(_Fields.message(d, cls.MSG_TYPE).req_sub("event")))


# ---------------------------------------------------------------------------------------------
# Stream and session control (§2.8)


@dataclass(frozen=True, slots=True)
class ClientReadyAck:
    """CLIENT_READY_ACK (7), on signaling once every media socket has handshaken."""

    MSG_TYPE: ClassVar[MsgType] = MsgType.CLIENT_READY_ACK
    rtms_stream_id: str

    def to_dict(self) -> dict[str, Any]:
        return _wire(self.MSG_TYPE, rtms_stream_id=self.rtms_stream_id)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Self:
        return cls(rtms_stream_id=_Fields.message(d, cls.MSG_TYPE).req_str("rtms_stream_id"))


@dataclass(frozen=True, slots=True)
class StreamStateUpdate:
    """STREAM_STATE_UPDATE (8); state is a StreamState, reason a StopReason."""

    MSG_TYPE: ClassVar[MsgType] = MsgType.STREAM_STATE_UPDATE
    rtms_stream_id: str
    state: int
    reason: int = 0
    timestamp: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return _wire(
            self.MSG_TYPE,
            rtms_stream_id=self.rtms_stream_id,
            state=self.state,
            reason=self.reason,
            timestamp=self.timestamp,
        )

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Self:
        f = _Fields.message(d, cls.MSG_TYPE)
        return cls(
            rtms_stream_id=f.req_str("rtms_stream_id"),
            state=f.req_int("state"),
            reason=_default(f.opt_int("reason"), 0),
            timestamp=f.opt_int("timestamp"),
        )


@dataclass(frozen=True, slots=True)
class SessionStateUpdate:
    """SESSION_STATE_UPDATE (9); state is a SessionState, reason a StopReason."""

    MSG_TYPE: ClassVar[MsgType] = MsgType.SESSION_STATE_UPDATE
    rtms_session_id: str
    state: int
    reason: int = 0
    timestamp: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return _wire(
            self.MSG_TYPE,
            rtms_session_id=self.rtms_session_id,
            state=self.state,
            reason=self.reason,
            timestamp=self.timestamp,
        )

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Self:
        f = _Fields.message(d, cls.MSG_TYPE)
        return cls(
            rtms_session_id=f.req_str("rtms_session_id"),
            state=f.req_int("state"),
            reason=_default(f.opt_int("reason"), 0),
            timestamp=f.opt_int("timestamp"),
        )


@dataclass(frozen=True, slots=True)
class SessionStateRequest:
    """SESSION_STATE_REQ (10); field shape UNCONFIRMED (reference §2.8), so all optional."""

    MSG_TYPE: ClassVar[MsgType] = MsgType.SESSION_STATE_REQ
    rtms_session_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return _wire(self.MSG_TYPE, rtms_session_id=self.rtms_session_id)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Self:
        return cls(rtms_session_id=_Fields.message(d, cls.MSG_TYPE).opt_str("rtms_session_id"))


@dataclass(frozen=True, slots=True)
class SessionStateResponse:
    """SESSION_STATE_RESP (11); field shape UNCONFIRMED (reference §2.8), so all optional."""

    MSG_TYPE: ClassVar[MsgType] = MsgType.SESSION_STATE_RESP
    rtms_session_id: str | None = None
    state: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return _wire(self.MSG_TYPE, rtms_session_id=self.rtms_session_id, state=self.state)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Self:
        f = _Fields.message(d, cls.MSG_TYPE)
        return cls(rtms_session_id=f.opt_str("rtms_session_id"), state=f.opt_int("state"))


@dataclass(frozen=True, slots=True)
class StreamStateRequest:
    """STREAM_STATE_REQ (19); field shape UNCONFIRMED (reference §2.8), so all optional."""

    MSG_TYPE: ClassVar[MsgType] = MsgType.STREAM_STATE_REQ
    rtms_stream_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return _wire(self.MSG_TYPE, rtms_stream_id=self.rtms_stream_id)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Self:
        return cls(rtms_stream_id=_Fields.message(d, cls.MSG_TYPE).opt_str("rtms_stream_id"))


@dataclass(frozen=True, slots=True)
class StreamStateResponse:
    """STREAM_STATE_RESP (20); field shape UNCONFIRMED (reference §2.8), so all optional."""

    MSG_TYPE: ClassVar[MsgType] = MsgType.STREAM_STATE_RESP
    rtms_stream_id: str | None = None
    state: int | None = None
    reason: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return _wire(
            self.MSG_TYPE, rtms_stream_id=self.rtms_stream_id, state=self.state, reason=self.reason
        )

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Self:
        f = _Fields.message(d, cls.MSG_TYPE)
        return cls(
            rtms_stream_id=f.opt_str("rtms_stream_id"),
            state=f.opt_int("state"),
            reason=f.opt_int("reason"),
        )


@dataclass(frozen=True, slots=True)
class KeepAliveResponse:
    """KEEP_ALIVE_RESP (13): echoes the request's timestamp and sequence."""

    MSG_TYPE: ClassVar[MsgType] = MsgType.KEEP_ALIVE_RESP
    timestamp: int | None = None
    sequence: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return _wire(self.MSG_TYPE, timestamp=self.timestamp, sequence=self.sequence)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Self:
        f = _Fields.message(d, cls.MSG_TYPE)
        return cls(timestamp=f.opt_int("timestamp"), sequence=f.opt_int("sequence"))


@dataclass(frozen=True, slots=True)
class KeepAliveRequest:
    """KEEP_ALIVE_REQ (12) on every socket; the SDK ignores one without `sequence`."""

    MSG_TYPE: ClassVar[MsgType] = MsgType.KEEP_ALIVE_REQ
    timestamp: int
    sequence: int | None = None

    def answer(self) -> KeepAliveResponse:
        """The response that echoes this request."""
        return KeepAliveResponse(timestamp=self.timestamp, sequence=self.sequence)

    def to_dict(self) -> dict[str, Any]:
        return _wire(self.MSG_TYPE, timestamp=self.timestamp, sequence=self.sequence)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Self:
        f = _Fields.message(d, cls.MSG_TYPE)
        return cls(timestamp=f.req_int("timestamp"), sequence=f.opt_int("sequence"))


@dataclass(frozen=True, slots=True)
class StreamCloseRequest:
    """STREAM_CLOSE_REQ (21): the client asks to end the stream."""

    MSG_TYPE: ClassVar[MsgType] = MsgType.STREAM_CLOSE_REQ
    rtms_stream_id: str

    def to_dict(self) -> dict[str, Any]:
        return _wire(self.MSG_TYPE, rtms_stream_id=self.rtms_stream_id)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Self:
        return cls(rtms_stream_id=_Fields.message(d, cls.MSG_TYPE).req_str("rtms_stream_id"))


@dataclass(frozen=True, slots=True)
class StreamCloseResponse:
    """STREAM_CLOSE_RESP (22); field shape UNCONFIRMED (reference §2.8)."""

    MSG_TYPE: ClassVar[MsgType] = MsgType.STREAM_CLOSE_RESP
    rtms_stream_id: str | None = None
    status_code: int = 0
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        return _wire(
            self.MSG_TYPE,
            rtms_stream_id=self.rtms_stream_id,
            status_code=self.status_code,
            reason=self.reason,
        )

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Self:
        f = _Fields.message(d, cls.MSG_TYPE)
        return cls(
            rtms_stream_id=f.opt_str("rtms_stream_id"),
            status_code=_default(f.opt_int("status_code"), 0),
            reason=_default(f.opt_str("reason"), ""),
        )


@dataclass(frozen=True, slots=True)
class VideoSubscriptionRequest:
    """VIDEO_SUBSCRIPTION_REQ (28); shape from SDK strings, UNCONFIRMED on real Zoom."""

    MSG_TYPE: ClassVar[MsgType] = MsgType.VIDEO_SUBSCRIPTION_REQ
    user_id: int
    subscribe: bool
    timestamp: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return _wire(
            self.MSG_TYPE, user_id=self.user_id, subscribe=self.subscribe, timestamp=self.timestamp
        )

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Self:
        f = _Fields.message(d, cls.MSG_TYPE)
        return cls(
            user_id=f.req_int("user_id"),
            subscribe=f.req_bool("subscribe"),
            timestamp=f.opt_int("timestamp"),
        )


@dataclass(frozen=True, slots=True)
class VideoSubscriptionResponse:
    """VIDEO_SUBSCRIPTION_RESP (29); shape from SDK strings, UNCONFIRMED on real Zoom."""

    MSG_TYPE: ClassVar[MsgType] = MsgType.VIDEO_SUBSCRIPTION_RESP
    user_id: int
    status_code: int = 0
    reason: str = ""
    timestamp: int | None = None
    sequence: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return _wire(
            self.MSG_TYPE,
            user_id=self.user_id,
            status_code=self.status_code,
            reason=self.reason,
            timestamp=self.timestamp,
            sequence=self.sequence,
        )

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Self:
        f = _Fields.message(d, cls.MSG_TYPE)
        return cls(
            user_id=f.req_int("user_id"),
            status_code=_default(f.opt_int("status_code"), 0),
            reason=_default(f.opt_str("reason"), ""),
            timestamp=f.opt_int("timestamp"),
            sequence=f.opt_int("sequence"),
        )


# ---------------------------------------------------------------------------------------------
# Media data (§3.3)


@dataclass(frozen=True, slots=True)
class BinaryContent:
    """`content` of audio, video and share data; `data` is base64 on the wire."""

    data: bytes
    timestamp: int
    user_id: int | None = None
    user_name: str | None = None
    channel_id: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return _compact(
            user_id=self.user_id,
            user_name=self.user_name,
            channel_id=self.channel_id,
            data=base64.b64encode(self.data).decode("ascii"),
            timestamp=self.timestamp,
        )

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], *, allow_data_uri: bool = False) -> Self:
        return cls._parse(_Fields(d, None), allow_data_uri=allow_data_uri)

    @classmethod
    def _parse(cls, f: _Fields, *, allow_data_uri: bool = False) -> Self:
        return cls(
            data=f.b64("data", allow_data_uri),
            timestamp=f.req_int("timestamp"),
            user_id=f.opt_int("user_id"),
            user_name=f.opt_str("user_name"),
            channel_id=f.opt_int("channel_id"),
        )


@dataclass(frozen=True, slots=True)
class TextContent:
    """`content` of transcript and chat data; `data` is plain UTF-8 text."""

    data: str
    timestamp: int
    user_id: int | None = None
    user_name: str | None = None
    channel_id: int | None = None
    start_time: int | None = None
    end_time: int | None = None
    language: int | None = None
    attribute: Any = None

    def to_dict(self) -> dict[str, Any]:
        return _compact(
            user_id=self.user_id,
            user_name=self.user_name,
            channel_id=self.channel_id,
            data=self.data,
            timestamp=self.timestamp,
            start_time=self.start_time,
            end_time=self.end_time,
            language=self.language,
            attribute=self.attribute,
        )

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Self:
        return cls._parse(_Fields(d, None))

    @classmethod
    def _parse(cls, f: _Fields) -> Self:
        return cls(
            data=f.req_str("data"),
            timestamp=f.req_int("timestamp"),
            user_id=f.opt_int("user_id"),
            user_name=f.opt_str("user_name"),
            channel_id=f.opt_int("channel_id"),
            start_time=f.opt_int("start_time"),
            end_time=f.opt_int("end_time"),
            language=f.opt_int("language"),
            attribute=f._data.get("attribute"),
        )


def _binary_content(d: Mapping[str, Any], msg_type: MsgType, allow_data_uri: bool) -> BinaryContent:
    content = _Fields.message(d, msg_type).req_sub("content")
    return BinaryContent._parse(content, allow_data_uri=allow_data_uri)


def _text_content(d: Mapping[str, Any], msg_type: MsgType) -> TextContent:
    return TextContent._parse(_Fields.message(d, msg_type).req_sub("content"))


@dataclass(frozen=True, slots=True)
class AudioData:
    """MEDIA_DATA_AUDIO (14): one audio frame."""

    MSG_TYPE: ClassVar[MsgType] = MsgType.MEDIA_DATA_AUDIO
    content: BinaryContent

    def to_dict(self) -> dict[str, Any]:
        return _wire(self.MSG_TYPE, content=self.content.to_dict())

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Self:
        return cls(content=_binary_content(d, cls.MSG_TYPE, allow_data_uri=False))


@dataclass(frozen=True, slots=True)
class VideoData:
    """MEDIA_DATA_VIDEO (15): one frame; a `data:<mime>;base64,` prefix is tolerated."""

    MSG_TYPE: ClassVar[MsgType] = MsgType.MEDIA_DATA_VIDEO
    content: BinaryContent

    def to_dict(self) -> dict[str, Any]:
        return _wire(self.MSG_TYPE, content=self.content.to_dict())

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Self:
        return cls(content=_binary_content(d, cls.MSG_TYPE, allow_data_uri=True))


@dataclass(frozen=True, slots=True)
class ShareData:
    """MEDIA_DATA_SHARE (16): one deskshare frame; a `data:` URI prefix is tolerated."""

    MSG_TYPE: ClassVar[MsgType] = MsgType.MEDIA_DATA_SHARE
    content: BinaryContent

    def to_dict(self) -> dict[str, Any]:
        return _wire(self.MSG_TYPE, content=self.content.to_dict())

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Self:
        return cls(content=_binary_content(d, cls.MSG_TYPE, allow_data_uri=True))


@dataclass(frozen=True, slots=True)
class TranscriptData:
    """MEDIA_DATA_TRANSCRIPT (17): one utterance.

    The SDK requires content.start_time and end_time; this parser accepts them missing (None)
    so that a sparser server is still understood.
    """

    MSG_TYPE: ClassVar[MsgType] = MsgType.MEDIA_DATA_TRANSCRIPT
    content: TextContent

    def to_dict(self) -> dict[str, Any]:
        return _wire(self.MSG_TYPE, content=self.content.to_dict())

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Self:
        return cls(content=_text_content(d, cls.MSG_TYPE))


@dataclass(frozen=True, slots=True)
class ChatData:
    """MEDIA_DATA_CHAT (18): one chat message."""

    MSG_TYPE: ClassVar[MsgType] = MsgType.MEDIA_DATA_CHAT
    content: TextContent

    def to_dict(self) -> dict[str, Any]:
        return _wire(self.MSG_TYPE, content=self.content.to_dict())

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Self:
        return cls(content=_text_content(d, cls.MSG_TYPE))


@dataclass(frozen=True, slots=True)
class AudioMetadata:
    """META_DATA_AUDIO (23): AI-interpreter metadata, kept as raw JSON (nesting UNCONFIRMED)."""

    MSG_TYPE: ClassVar[MsgType] = MsgType.META_DATA_AUDIO
    interpreter: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return _wire(self.MSG_TYPE, interpreter=dict(self.interpreter))

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Self:
        return cls(interpreter=_Fields.message(d, cls.MSG_TYPE).req_dict("interpreter"))


def _raw_body(d: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in d.items() if key != "msg_type"}


_RESERVED_METADATA = range(MsgType.META_DATA_VIDEO, MsgType.META_DATA_CHAT + 1)


@dataclass(frozen=True, slots=True)
class ReservedMetadata:
    """META_DATA_VIDEO/SHARE/TRANSCRIPT/CHAT (24-27), reserved: every field but msg_type, raw.

    MSG_TYPE is the first of the range; the instance's `msg_type` is the real one.
    """

    MSG_TYPE: ClassVar[MsgType] = MsgType.META_DATA_VIDEO
    msg_type: int
    body: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {"msg_type": int(self.msg_type), **_raw_body(self.body)}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Self:
        f = _Fields(d, None)
        msg_type = f.req_int("msg_type")
        if msg_type not in _RESERVED_METADATA:
            f.fail("msg_type", f"expected 24 to 27, got {msg_type}")
        return cls(msg_type=msg_type, body=_raw_body(d))


@dataclass(frozen=True, slots=True)
class UnknownMessage:
    """A message whose msg_type this module does not model (0, or a future number), kept raw.

    `body` is every field but msg_type. Encoding one with a modelled msg_type makes a frame
    that parses as that message's class, or fails to parse.
    """

    MSG_TYPE: ClassVar[MsgType] = MsgType.UNDEFINED
    msg_type: int
    body: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {"msg_type": int(self.msg_type), **_raw_body(self.body)}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Self:
        return cls(msg_type=_Fields(d, None).req_int("msg_type"), body=_raw_body(d))


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

_PARSERS: dict[int, Callable[[Mapping[str, Any]], Message]] = {
    cls.MSG_TYPE: cls.from_dict
    for cls in (
        SignalingHandshakeRequest,
        SignalingHandshakeResponse,
        DataHandshakeRequest,
        DataHandshakeResponse,
        EventSubscription,
        EventUpdate,
        ClientReadyAck,
        StreamStateUpdate,
        SessionStateUpdate,
        SessionStateRequest,
        SessionStateResponse,
        KeepAliveRequest,
        KeepAliveResponse,
        AudioData,
        VideoData,
        ShareData,
        TranscriptData,
        ChatData,
        StreamStateRequest,
        StreamStateResponse,
        StreamCloseRequest,
        StreamCloseResponse,
        AudioMetadata,
        VideoSubscriptionRequest,
        VideoSubscriptionResponse,
    )
}
_PARSERS.update(dict.fromkeys(_RESERVED_METADATA, ReservedMetadata.from_dict))


def _reject_constant(name: str) -> NoReturn:
    raise ProtocolError(f"frame is not strict JSON: {name}")


def _finite_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ProtocolError(f"frame is not strict JSON: number {text[:20]} is out of range")
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
    except ValueError as exc:  # e.g. an integer beyond Python's digit limit
        raise ProtocolError(f"frame is not acceptable JSON: {exc}") from None
    except RecursionError:
        raise ProtocolError("frame is nested too deeply") from None


def parse_message(frame: str | bytes | bytearray | memoryview) -> Message:
    """Parse one text or binary WebSocket frame; raises ProtocolError, never anything else."""
    data = _load_json(frame)
    if not isinstance(data, dict):
        raise ProtocolError(f"frame is {_describe(data)}, not a JSON object")
    if "msg_type" not in data or data["msg_type"] is None:
        raise ProtocolError("msg_type: missing required field")
    msg_type = data["msg_type"]
    if isinstance(msg_type, bool) or not isinstance(msg_type, int):
        raise ProtocolError(f"msg_type: expected an integer, got {_describe(msg_type)}")
    parse = _PARSERS.get(msg_type, UnknownMessage.from_dict)
    try:
        return parse(data)
    except ProtocolError:
        raise
    except (LookupError, TypeError, ValueError, AttributeError) as exc:  # pragma: no cover
        # Callers drop bad frames and carry on; a parser bug must reach them the same way.
        raise ProtocolError(f"unparseable: {type(exc).__name__}: {exc}", msg_type) from exc


def encode_message(message: Message) -> str:
    """Compact JSON text of a message; ValueError if a raw JSON field holds NaN or infinity."""
    return json.dumps(message.to_dict(), separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def encode_message_bytes(message: Message) -> bytes:
    """UTF-8 of `encode_message(message)`, for binary frames."""
    try:
        return encode_message(message).encode("utf-8")
    except UnicodeEncodeError:
        # Lone surrogates (legal in JSON through \\u escapes) have no UTF-8 form; escaping every
        # non-ASCII character keeps the frame valid and parses back to the same strings.
        text = json.dumps(message.to_dict(), separators=(",", ":"), allow_nan=False)
        return text.encode("ascii")
