"""Checking signaling and data handshake requests and building the negotiated media params."""

from __future__ import annotations

from rtms_ingest.protocol import (
    ChatParams,
    DataHandshakeRequest,
    MediaParams,
    MediaType,
    SignalingHandshakeRequest,
    TextContentType,
    TranscriptLanguage,
    TranscriptParams,
    verify_handshake_signature,
)
from rtms_ingest.simulator.audio import negotiate_audio
from rtms_ingest.simulator.config import SimulatorConfig, Status
from rtms_ingest.simulator.session import MEDIA_KINDS, SimulatedStream

SUPPORTED_PROTOCOL_VERSION = 1
# Every media bit; ALL (32) on the wire means all of these.
_EVERY_MEDIA = (
    MediaType.AUDIO | MediaType.VIDEO | MediaType.DESKSHARE | MediaType.TRANSCRIPT | MediaType.CHAT
)


def check_request(
    request: SignalingHandshakeRequest | DataHandshakeRequest,
    stream: SimulatedStream | None,
    path_stream_id: str,
    config: SimulatorConfig,
) -> Status:
    """Validate the fields both handshakes share: version, ids and signature.

    A stream that is over (closed with STREAM_CLOSE_REQ, dropped for unanswered keep-alives,
    given up on after AWAIT_RECONNECTION_TIMEOUT, or played to the end) is an invalid id.
    """
    if request.protocol_version != SUPPORTED_PROTOCOL_VERSION:
        return Status.UNSUPPORTED_PROTOCOL_VERSION
    if stream is None or stream.over or request.rtms_stream_id != path_stream_id:
        return Status.INVALID_STREAM_ID
    # The id may arrive in the product's own field or, as the official SDK does for every
    # product, in meeting_uuid.
    given = {request.meeting_uuid, request.session_id, request.engagement_id}
    if stream.owner_id not in given:
        return Status.INVALID_OWNER_ID
    signature_ok = verify_handshake_signature(
        request.signature,
        config.client_id,
        config.client_secret,
        stream.owner_id,
        stream.rtms_stream_id,
    )
    if config.faults.refuse_signature or not signature_ok:
        return Status.INVALID_SIGNATURE
    return Status.OK


def media_mask(kind: str, media_type: int) -> int | Status:
    """The media bits a socket on the `kind` URL carries, or INVALID_MEDIA_TYPE.

    On a per-type URL the request must name that type (or ALL); on the `all` URL any non-empty
    set of bits is accepted, and ALL means every type.
    """
    if kind == "all":
        mask = _EVERY_MEDIA if media_type & MediaType.ALL else media_type & _EVERY_MEDIA
        return int(mask) if mask else Status.INVALID_MEDIA_TYPE
    bit = MEDIA_KINDS[kind]
    if media_type & bit or media_type == MediaType.ALL:
        return int(bit)
    return Status.INVALID_MEDIA_TYPE


def negotiate(request: DataHandshakeRequest, mask: int) -> MediaParams | Status:
    """The media params answered in DATA_HAND_SHAKE_RESP for the kinds this socket carries.

    Audio is what will really be sent (see audio.negotiate_audio); video, deskshare,
    transcript and chat params are echoed (transcript and chat default to TEXT), since the
    simulator sends no video and its text needs no negotiation.
    """
    asked = request.media_params or MediaParams()
    audio = None
    if mask & MediaType.AUDIO:
        negotiated = negotiate_audio(asked.audio)
        if isinstance(negotiated, Status):
            return negotiated
        audio = negotiated
    if mask & MediaType.TRANSCRIPT and asked.transcript is not None:
        refusal = check_transcript(asked.transcript)
        if refusal is not None:
            return refusal
    text = TextContentType.TEXT
    return MediaParams(
        audio=audio,
        video=asked.video if mask & MediaType.VIDEO else None,
        deskshare=asked.deskshare if mask & MediaType.DESKSHARE else None,
        transcript=(asked.transcript or TranscriptParams(content_type=text))
        if mask & MediaType.TRANSCRIPT
        else None,
        chat=(asked.chat or ChatParams(content_type=text)) if mask & MediaType.CHAT else None,
    )


def check_transcript(asked: TranscriptParams) -> Status | None:
    """Zoom's checks of `media_params.transcript`: a src_language it knows (-1 detects);
    enable_lid false forces that language, so it needs one (the refusal is ours: UNCONFIRMED)."""
    language = asked.src_language
    known = {int(member) for member in TranscriptLanguage}
    if language is not None and language not in known:
        return Status.INVALID_TRANSCRIPT_LANGUAGE
    if asked.enable_lid is False and language in (None, TranscriptLanguage.NONE):
        return Status.INVALID_TRANSCRIPT_LANGUAGE
    return None
