"""RTMS wire enums (package-private; import them from `rtms_ingest.protocol`).

Values follow docs/rtms-protocol.md §2.2, §2.6, §2.7 and §3.1, cross-checked against the
enums exported by Zoom's `rtms` 1.1.0 SDK. Parsed messages keep these fields as plain `int`
so that a value Zoom adds later does not break parsing; the enums are for building messages
and for comparisons (an IntEnum compares equal to its int).
"""

from __future__ import annotations

from enum import IntEnum, IntFlag

__all__ = [
    "MEDIA_URL_KEYS",
    "AudioChannel",
    "AudioCodec",
    "AudioContentType",
    "AudioDataOption",
    "AudioSampleRate",
    "EventType",
    "LegacyStatusCode",
    "MediaType",
    "MsgType",
    "SessionState",
    "StatusCode",
    "StopReason",
    "StreamState",
    "TextContentType",
    "TranscriptLanguage",
    "VideoCodec",
    "VideoContentType",
    "VideoDataOption",
    "VideoResolution",
]


class MsgType(IntEnum):
    """The `msg_type` of every RTMS frame (§2.2)."""

    UNDEFINED = 0
    SIGNALING_HAND_SHAKE_REQ = 1
    SIGNALING_HAND_SHAKE_RESP = 2
    DATA_HAND_SHAKE_REQ = 3
    DATA_HAND_SHAKE_RESP = 4
    EVENT_SUBSCRIPTION = 5
    EVENT_UPDATE = 6
    CLIENT_READY_ACK = 7
    STREAM_STATE_UPDATE = 8
    SESSION_STATE_UPDATE = 9
    SESSION_STATE_REQ = 10
    SESSION_STATE_RESP = 11
    KEEP_ALIVE_REQ = 12
    KEEP_ALIVE_RESP = 13
    MEDIA_DATA_AUDIO = 14
    MEDIA_DATA_VIDEO = 15
    MEDIA_DATA_SHARE = 16
    MEDIA_DATA_TRANSCRIPT = 17
    MEDIA_DATA_CHAT = 18
    STREAM_STATE_REQ = 19
    STREAM_STATE_RESP = 20
    STREAM_CLOSE_REQ = 21
    STREAM_CLOSE_RESP = 22
    META_DATA_AUDIO = 23
    META_DATA_VIDEO = 24
    META_DATA_SHARE = 25
    META_DATA_TRANSCRIPT = 26
    META_DATA_CHAT = 27
    VIDEO_SUBSCRIPTION_REQ = 28
    VIDEO_SUBSCRIPTION_RESP = 29


class MediaType(IntFlag):
    """The `media_type` bitmask of a data handshake (§3.1); ALL is its own bit, not a union."""

    AUDIO = 1
    VIDEO = 2
    DESKSHARE = 4
    TRANSCRIPT = 8
    CHAT = 16
    ALL = 32


MEDIA_URL_KEYS: dict[MediaType, str] = {
    MediaType.AUDIO: "audio",
    MediaType.VIDEO: "video",
    MediaType.DESKSHARE: "deskshare",
    MediaType.TRANSCRIPT: "transcript",
    MediaType.CHAT: "chat",
    MediaType.ALL: "all",
}
"""Key of each media type's URL in `media_server.server_urls` (§2.5)."""


class StreamState(IntEnum):
    """`state` of STREAM_STATE_UPDATE (§2.7)."""

    INACTIVE = 0
    ACTIVE = 1
    INTERRUPTED = 2
    TERMINATING = 3
    TERMINATED = 4
    PAUSED = 5
    RESUMED = 6


class SessionState(IntEnum):
    """`state` of SESSION_STATE_UPDATE (§2.7)."""

    INACTIVE = 0
    INITIALIZE = 1
    STARTED = 2
    PAUSED = 3
    RESUMED = 4
    STOPPED = 5


class StopReason(IntEnum):
    """Why a stream stopped: `reason` of state updates and webhook `stop_reason` (§2.7)."""

    UNDEFINED = 0
    HOST_TRIGGERED = 1
    USER_TRIGGERED = 2
    USER_LEFT = 3
    USER_EJECTED = 4
    HOST_DISABLED_APP = 5
    MEETING_ENDED = 6
    STREAM_CANCELED = 7
    STREAM_REVOKED = 8
    ALL_APPS_DISABLED = 9
    INTERNAL_EXCEPTION = 10
    CONNECTION_TIMEOUT = 11
    INSTANCE_CONNECTION_INTERRUPTED = 12
    SIGNAL_CONNECTION_INTERRUPTED = 13
    DATA_CONNECTION_INTERRUPTED = 14
    SIGNAL_CONNECTION_CLOSED_ABNORMALLY = 15
    DATA_CONNECTION_CLOSED_ABNORMALLY = 16
    EXIT_SIGNAL = 17
    AUTHENTICATION_FAILURE = 18
    AWAIT_RECONNECTION_TIMEOUT = 19
    RECEIVER_REQUEST_CLOSE = 20
    CUSTOMER_DISCONNECTED = 21
    AGENT_DISCONNECTED = 22
    ADMIN_DISABLED_APP = 23
    KEEP_ALIVE_TIMEOUT = 24
    MANUAL_API_TRIGGERED = 25
    STREAMING_NOT_SUPPORTED = 26


class EventType(IntEnum):
    """`event_type` of EVENT_SUBSCRIPTION and EVENT_UPDATE for meetings (§2.7).

    Zoom Contact Center streams reuse the numbers from 8 upwards for voice events with other
    meanings (8 CONSUMER_ANSWERED ... 28 CONFERENCE_PARTICIPANT_TIMEOUT), so a number is only
    meaningful together with the kind of stream; those ZCC names are not listed here.
    """

    UNDEFINED = 0
    FIRST_PACKET_TIMESTAMP = 1
    ACTIVE_SPEAKER_CHANGE = 2
    PARTICIPANT_JOIN = 3
    PARTICIPANT_LEAVE = 4
    SHARING_START = 5
    SHARING_STOP = 6
    MEDIA_CONNECTION_INTERRUPTED = 7
    PARTICIPANT_VIDEO_ON = 8
    PARTICIPANT_VIDEO_OFF = 9
    # Chat groups (Zoom's June 2026 release, reference §7); their fields are UNCONFIRMED.
    CHAT_GROUP_CREATE = 10
    CHAT_GROUP_DELETE = 11
    CHAT_GROUP_MEMBERS_ADD = 12
    CHAT_GROUP_MEMBERS_DELETE = 13
    CHAT_GROUP_MEMBER_STATUS_UPDATE = 14


CHAT_GROUP_EVENTS = frozenset(
    range(EventType.CHAT_GROUP_CREATE, EventType.CHAT_GROUP_MEMBER_STATUS_UPDATE + 1)
)


class StatusCode(IntEnum):
    """Handshake `status_code`, table (A) of §2.6, the current public docs (UNCONFIRMED).

    The official SDK only forwards the number, so the numbering matters only between our
    client and our simulator; see `LegacyStatusCode` for Zoom's older mock server.
    """

    OK = 0
    INVALID_MESSAGE_TYPE = 1
    INVALID_RTMS_STREAM_ID = 2
    INVALID_SIGNATURE = 3
    INVALID_PAYLOAD = 4
    INVALID_EVENTS = 5
    INVALID_EVENT_TYPE = 6
    INVALID_MEDIA_TYPE = 7
    DUPLICATE_SIGNAL_REQUEST = 8
    MEDIA_TYPE_AUDIO_NOT_SUPPORT = 9
    MEDIA_TYPE_VIDEO_NOT_SUPPORT = 10
    MEDIA_TYPE_DESKSHARE_NOT_SUPPORT = 11
    MEDIA_TYPE_TRANSCRIPT_NOT_SUPPORT = 12
    MEDIA_TYPE_CHAT_NOT_SUPPORT = 13
    MEDIA_TYPE_INVALID_VALUE = 14
    MEDIA_DATA_ALL_CONNECTION_EXIST = 15
    DUPLICATE_MEDIA_DATA_CONNECTION = 16
    INVALID_MEDIA_PARAMS = 17
    INVALID_MEDIA_AUDIO_PARAMS = 18
    INVALID_MEDIA_AUDIO_CONTENT_TYPE = 19
    INVALID_MEDIA_AUDIO_SAMPLE_RATE = 20
    INVALID_MEDIA_AUDIO_CHANNEL = 21
    INVALID_MEDIA_AUDIO_CODEC = 22
    INVALID_MEDIA_AUDIO_DATA_OPT = 23
    INVALID_MEDIA_AUDIO_SEND_RATE = 24
    INVALID_MEDIA_VIDEO_PARAMS = 25
    INVALID_MEDIA_VIDEO_CONTENT_TYPE = 26
    INVALID_MEDIA_VIDEO_CODEC = 27
    INVALID_MEDIA_VIDEO_RESOLUTION = 28
    INVALID_MEDIA_VIDEO_DATA_OPT = 29
    INVALID_MEDIA_VIDEO_FPS = 30
    INVALID_MEDIA_DESKSHARE_PARAMS = 31
    INVALID_MEDIA_DESKSHARE_CONTENT_TYPE = 32
    INVALID_MEDIA_DESKSHARE_CODEC = 33
    INVALID_MEDIA_DESKSHARE_RESOLUTION = 34
    INVALID_MEDIA_DESKSHARE_FPS = 35
    INVALID_MEDIA_TRANSCRIPT_PARAMS = 36
    INVALID_MEDIA_TRANSCRIPT_CONTENT_TYPE = 37
    INVALID_MEDIA_CHAT_PARAMS = 38
    INVALID_MEDIA_CHAT_CONTENT_TYPE = 39
    INVALID_RTMS_SESSION_ID = 40
    INVALID_CLIENT_READY_ACK = 41
    INVALID_EVENT_SUBSCRIBE = 42
    # Spelled as in Zoom's table; the correctly spelled name below is an alias of it.
    INVALID_MEDIA_TRANSCRIPT_SROUCE_LANGUAGE = 43
    INVALID_MEDIA_TRANSCRIPT_SOURCE_LANGUAGE = 43


class LegacyStatusCode(IntEnum):
    """Handshake `status_code`, table (B) of §2.6: Zoom's older mock server.

    Only 0-31, which every copy of that table agrees on, and 75 as the reference gives it; the
    copies disagree on the numbering after 31, so those codes are left out.
    """

    OK = 0
    CONNECTION_TIMEOUT = 1
    INVALID_JSON_MSG_SIZE = 2
    INVALID_JSON_MSG = 3
    INVALID_MESSAGE_TYPE = 4
    MSG_TYPE_NOT_EXIST = 5
    MSG_TYPE_NOT_UINT = 6
    MEETING_UUID_NOT_EXIST = 7
    MEETING_UUID_NOT_STRING = 8
    MEETING_UUID_IS_EMPTY = 9
    RTMS_STREAM_ID_NOT_EXIST = 10
    RTMS_STREAM_ID_NOT_STRING = 11
    RTMS_STREAM_ID_IS_EMPTY = 12
    SESSION_NOT_FOUND = 13
    SIGNATURE_NOT_EXIST = 14
    INVALID_SIGNATURE = 15
    INVALID_MEETING_OR_STREAM_ID = 16
    DUPLICATE_SIGNAL_REQUEST = 17
    EVENTS_NOT_EXIST = 18
    EVENTS_VALUE_NOT_ARRAY = 19
    EVENT_TYPE_NOT_EXIST = 20
    EVENT_TYPE_VALUE_NOT_UINT = 21
    MEDIA_TYPE_NOT_EXIST = 22
    MEDIA_TYPE_NOT_UINT = 23
    MEDIA_TYPE_AUDIO_NOT_SUPPORT = 24
    MEDIA_TYPE_VIDEO_NOT_SUPPORT = 25
    MEDIA_TYPE_DESKSHARE_NOT_SUPPORT = 26
    MEDIA_TYPE_TRANSCRIPT_NOT_SUPPORT = 27
    MEDIA_TYPE_CHAT_NOT_SUPPORT = 28
    MEDIA_TYPE_INVALID_VALUE = 29
    MEDIA_DATA_ALL_CONNECTION_EXIST = 30
    DUPLICATE_MEDIA_DATA_CONNECTION = 31
    RTMS_SESSION_NOT_FOUND = 75


class AudioContentType(IntEnum):
    """`media_params.audio.content_type` (§3.1)."""

    RTP = 1
    RAW_AUDIO = 2


class AudioCodec(IntEnum):
    """`media_params.audio.codec` (§3.1); OPUS requires 48 kHz in the SDK."""

    L16 = 1
    G711 = 2
    G722 = 3
    OPUS = 4


class AudioSampleRate(IntEnum):
    """`media_params.audio.sample_rate`: an enum index on the wire, not a rate in Hz (§3.1)."""

    SR_8K = 0
    SR_16K = 1
    SR_32K = 2
    SR_48K = 3

    @property
    def hz(self) -> int:
        """The sample rate in Hz."""
        return (8000, 16000, 32000, 48000)[self.value]


class AudioChannel(IntEnum):
    """`media_params.audio.channel` (§3.1); STEREO only with OPUS."""

    MONO = 1
    STEREO = 2


class AudioDataOption(IntEnum):
    """`media_params.audio.data_opt` (§3.1)."""

    AUDIO_MIXED_STREAM = 1
    AUDIO_MULTI_STREAMS = 2


class VideoContentType(IntEnum):
    """`media_params.video.content_type` and `deskshare.content_type` (§3.1)."""

    RAW_VIDEO = 3


class VideoCodec(IntEnum):
    """`media_params.video.codec` and `deskshare.codec` (§3.1)."""

    JPG = 5
    PNG = 6
    H264 = 7


class VideoResolution(IntEnum):
    """`media_params.video.resolution` and `deskshare.resolution` (§3.1)."""

    SD = 1
    HD = 2
    FHD = 3
    QHD = 4


class VideoDataOption(IntEnum):
    """`media_params.video.data_opt` (§3.1); 4 was formerly VIDEO_MIXED_SPEAKER_VIEW."""

    VIDEO_SINGLE_ACTIVE_STREAM = 3
    VIDEO_SINGLE_INDIVIDUAL_STREAM = 4
    VIDEO_MIXED_GALLERY_VIEW = 5


class TextContentType(IntEnum):
    """`media_params.transcript.content_type` and `chat.content_type` (§3.1)."""

    TEXT = 5


class TranscriptLanguage(IntEnum):
    """`media_params.transcript.src_language` (§3.1); NONE lets Zoom detect the language.

    The full list as exported by Zoom's `rtms` 1.1.0 SDK (alphabetical, 0-36).
    """

    NONE = -1
    ARABIC = 0
    BENGALI = 1
    CANTONESE = 2
    CATALAN = 3
    CHINESE_SIMPLIFIED = 4
    CHINESE_TRADITIONAL = 5
    CZECH = 6
    DANISH = 7
    DUTCH = 8
    ENGLISH = 9
    ESTONIAN = 10
    FINNISH = 11
    FRENCH_CANADA = 12
    FRENCH_FRANCE = 13
    GERMAN = 14
    HEBREW = 15
    HINDI = 16
    HUNGARIAN = 17
    INDONESIAN = 18
    ITALIAN = 19
    JAPANESE = 20
    KOREAN = 21
    MALAY = 22
    PERSIAN = 23
    POLISH = 24
    PORTUGUESE = 25
    ROMANIAN = 26
    RUSSIAN = 27
    SPANISH = 28
    SWEDISH = 29
    TAGALOG = 30
    TAMIL = 31
    TELUGU = 32
    THAI = 33
    TURKISH = 34
    UKRAINIAN = 35
    VIETNAMESE = 36
