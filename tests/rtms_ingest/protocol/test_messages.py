"""Behaviour of rtms_ingest.protocol against docs/rtms-protocol.md and the frames the SDK sent."""

import json
import pickle

import pytest

from rtms_ingest.protocol import (
    MEDIA_URL_KEYS,
    AudioCodec,
    AudioData,
    AudioParams,
    AudioSampleRate,
    BinaryContent,
    ChatData,
    ClientReadyAck,
    DataHandshakeRequest,
    DataHandshakeResponse,
    EventParticipant,
    EventSubscription,
    EventSubscriptionItem,
    EventType,
    EventUpdate,
    KeepAliveRequest,
    KeepAliveResponse,
    MediaParams,
    MediaType,
    MsgType,
    ProtocolError,
    ReservedMetadata,
    RtmsEvent,
    SessionStateUpdate,
    ShareData,
    SignalingHandshakeRequest,
    SignalingHandshakeResponse,
    StatusCode,
    StopReason,
    StreamState,
    StreamStateUpdate,
    TextContent,
    TranscriptData,
    TranscriptLanguage,
    TranscriptParams,
    UnknownMessage,
    VideoData,
    encode_message,
    encode_message_bytes,
    handshake_signature,
    parse_message,
    verify_handshake_signature,
)
from rtms_ingest.protocol.fast import parse_frame

SIGNATURE = "0bd9b70e16355c0d69843db67c923e38c62f132c449797f70a820011f57af347"

# Frames as the official SDK sent them (§2.4, §3.1, §2.8): binary, jsoncpp-styled with tabs,
# keys sorted.
SDK_SIGNALING_HANDSHAKE = (
    b"{\n"
    b'\t"meeting_uuid" : "abc==",\n'
    b'\t"msg_type" : 1,\n'
    b'\t"protocol_version" : 1,\n'
    b'\t"rtms_client_agent" : "rtms_sdk_cpp-.0.20260319-python-rtms",\n'
    b'\t"rtms_stream_id" : "stream123",\n'
    b'\t"sequence" : 4294929252,\n'
    b'\t"signature" : "' + SIGNATURE.encode() + b'"\n'
    b"}\n"
)
SDK_AUDIO_DATA_HANDSHAKE = (
    b"{\n"
    b'\t"media_params" : \n'
    b"\t{\n"
    b'\t\t"audio" : \n'
    b"\t\t{\n"
    b'\t\t\t"channel" : 2,\n'
    b'\t\t\t"codec" : 4,\n'
    b'\t\t\t"content_type" : 2,\n'
    b'\t\t\t"data_opt" : 2,\n'
    b'\t\t\t"sample_rate" : 3,\n'
    b'\t\t\t"send_rate" : 20\n'
    b"\t\t}\n"
    b"\t},\n"
    b'\t"media_type" : 1,\n'
    b'\t"meeting_uuid" : "abc==",\n'
    b'\t"msg_type" : 3,\n'
    b'\t"protocol_version" : 1,\n'
    b'\t"rtms_stream_id" : "stream123",\n'
    b'\t"sequence" : 4294929253,\n'
    b'\t"signature" : "' + SIGNATURE.encode() + b'"\n'
    b"}\n"
)
SDK_TRANSCRIPT_DATA_HANDSHAKE = (
    b"{\n"
    b'\t"media_params" : null,\n'
    b'\t"media_type" : 8,\n'
    b'\t"meeting_uuid" : "abc==",\n'
    b'\t"msg_type" : 3,\n'
    b'\t"protocol_version" : 1,\n'
    b'\t"rtms_stream_id" : "stream123",\n'
    b'\t"sequence" : 17,\n'
    b'\t"signature" : "' + SIGNATURE.encode() + b'"\n'
    b"}\n"
)
SDK_EVENT_SUBSCRIPTION = (
    b"{\n"
    b'\t"events" : \n'
    b"\t[\n"
    b"\t\t{\n"
    b'\t\t\t"event_type" : 2,\n'
    b'\t\t\t"subscribe" : true\n'
    b"\t\t},\n"
    b"\t\t{\n"
    b'\t\t\t"event_type" : 3,\n'
    b'\t\t\t"subscribe" : true\n'
    b"\t\t},\n"
    b"\t\t{\n"
    b'\t\t\t"event_type" : 4,\n'
    b'\t\t\t"subscribe" : true\n'
    b"\t\t}\n"
    b"\t],\n"
    b'\t"msg_type" : 5\n'
    b"}\n"
)
SDK_KEEP_ALIVE_RESPONSE = (
    b'{\n\t"msg_type" : 13,\n\t"sequence" : 9,\n\t"timestamp" : 1730000000000\n}\n'
)
SIX_SERVER_URLS = {key: f"wss://rtms.example/{key}" for key in MEDIA_URL_KEYS.values()}


def test_signature_matches_the_one_the_sdk_sent():
    signature = handshake_signature("cid", "csecret", "abc==", "stream123")

    assert signature.startswith("0bd9b70e")
    assert signature.endswith("af347")
    assert signature == SIGNATURE


def test_signature_verifies_against_the_same_inputs():
    assert verify_handshake_signature(SIGNATURE, "cid", "csecret", "abc==", "stream123")


def test_signature_for_another_stream_does_not_verify():
    assert not verify_handshake_signature(SIGNATURE, "cid", "csecret", "abc==", "stream124")


@pytest.mark.parametrize("signature", ["", "é" * 64, SIGNATURE.upper(), None, 42, "\ud800"])
def test_odd_signature_is_rejected_without_raising(signature):
    assert not verify_handshake_signature(signature, "cid", "csecret", "abc==", "stream123")


def test_sdk_signaling_handshake_frame_parses():
    message = parse_message(SDK_SIGNALING_HANDSHAKE)

    assert message == SignalingHandshakeRequest(
        rtms_stream_id="stream123",
        signature=SIGNATURE,
        sequence=4294929252,
        meeting_uuid="abc==",
        protocol_version=1,
        rtms_client_agent="rtms_sdk_cpp-.0.20260319-python-rtms",
    )
    assert message.stream_owner_id == "abc=="


def test_sdk_audio_data_handshake_frame_parses_its_media_params():
    message = parse_message(SDK_AUDIO_DATA_HANDSHAKE)

    assert isinstance(message, DataHandshakeRequest)
    assert message.media_type == MediaType.AUDIO
    assert message.payload_encryption is None
    assert message.media_params == MediaParams(
        audio=AudioParams(
            content_type=2, codec=4, sample_rate=3, channel=2, data_opt=2, send_rate=20
        )
    )


def test_sdk_transcript_data_handshake_with_null_media_params_parses_to_none():
    message = parse_message(SDK_TRANSCRIPT_DATA_HANDSHAKE)

    assert isinstance(message, DataHandshakeRequest)
    assert message.media_type == MediaType.TRANSCRIPT
    assert message.media_params is None


def test_data_handshake_without_media_params_parses_to_none():
    frame = {"msg_type": 3, "meeting_uuid": "m", "rtms_stream_id": "s", "signature": "x"}
    message = parse_message(json.dumps({**frame, "media_type": 32, "payload_encryption": False}))

    assert isinstance(message, DataHandshakeRequest)
    assert message.media_params is None
    assert message.payload_encryption is False


def test_sdk_event_subscription_frame_parses():
    message = parse_message(SDK_EVENT_SUBSCRIPTION)

    assert message == EventSubscription(
        events=tuple(EventSubscriptionItem(event_type, True) for event_type in (2, 3, 4))
    )


def test_sdk_keep_alive_response_frame_parses():
    assert parse_message(SDK_KEEP_ALIVE_RESPONSE) == KeepAliveResponse(
        timestamp=1730000000000, sequence=9
    )


def test_keep_alive_answer_echoes_timestamp_and_sequence():
    request = parse_message('{"msg_type":12,"timestamp":1730000000000,"sequence":41}')

    assert isinstance(request, KeepAliveRequest)
    assert encode_message(request.answer()) == (
        '{"msg_type":13,"timestamp":1730000000000,"sequence":41}'
    )


def test_keep_alive_request_without_sequence_is_answered_with_timestamp_only():
    request = parse_message('{"msg_type":12,"timestamp":5}')

    assert isinstance(request, KeepAliveRequest)
    assert request.answer() == KeepAliveResponse(timestamp=5, sequence=None)
    assert request.answer().to_dict() == {"msg_type": 13, "timestamp": 5}


def test_unknown_fields_are_ignored():
    frame = '{"msg_type":7,"rtms_stream_id":"s","from_the_future":{"x":[1,2]}}'

    assert parse_message(frame) == ClientReadyAck(rtms_stream_id="s")


@pytest.mark.parametrize("msg_type", [0, 30, 4096, -1, 10**30])
def test_unknown_msg_type_parses_as_unknown_message(msg_type):
    message = parse_message(json.dumps({"msg_type": msg_type, "x": [1, {"y": None}]}))

    assert message == UnknownMessage(msg_type=msg_type, body={"x": [1, {"y": None}]})


@pytest.mark.parametrize("msg_type", [24, 25, 26, 27])
def test_reserved_metadata_is_kept_raw(msg_type):
    message = parse_message(json.dumps({"msg_type": msg_type, "anything": {"a": 1}}))

    assert message == ReservedMetadata(msg_type=msg_type, body={"anything": {"a": 1}})


def test_signaling_response_nests_urls_and_keys_in_media_server():
    response = SignalingHandshakeResponse(
        status_code=StatusCode.OK, sequence=7, server_urls=SIX_SERVER_URLS, srtp_keys={"audio": "k"}
    )

    assert response.to_dict()["media_server"] == {
        "server_urls": SIX_SERVER_URLS,
        "srtp_keys": {"audio": "k"},
    }


def test_signaling_response_with_six_server_urls_round_trips():
    response = SignalingHandshakeResponse(status_code=0, sequence=7, server_urls=SIX_SERVER_URLS)

    parsed = parse_message(encode_message(response))

    assert parsed == response
    assert isinstance(parsed, SignalingHandshakeResponse)
    assert set(parsed.server_urls or {}) == {
        "audio",
        "video",
        "transcript",
        "deskshare",
        "chat",
        "all",
    }


def test_error_signaling_response_has_no_media_server():
    response = SignalingHandshakeResponse(status_code=15, reason="invalid signature")

    assert "media_server" not in response.to_dict()
    assert parse_message(encode_message(response)) == response


def test_none_optional_fields_are_left_out_when_encoding():
    update = StreamStateUpdate(rtms_stream_id="s", state=StreamState.TERMINATED)

    assert json.loads(encode_message(update)) == {
        "msg_type": 8,
        "rtms_stream_id": "s",
        "state": 4,
        "reason": 0,
    }


def test_enum_members_encode_as_plain_numbers():
    params = MediaParams(
        audio=AudioParams(codec=AudioCodec.OPUS, sample_rate=AudioSampleRate.SR_48K),
        transcript=TranscriptParams(src_language=TranscriptLanguage.NONE, enable_lid=True),
    )

    assert encode_message(
        DataHandshakeRequest("s", "sig", MediaType.AUDIO, meeting_uuid="m", media_params=params)
    ) == (
        '{"msg_type":3,"rtms_stream_id":"s","signature":"sig","media_type":1,"sequence":0,'
        '"meeting_uuid":"m","protocol_version":1,"media_params":{"audio":{"codec":4,'
        '"sample_rate":3},"transcript":{"src_language":-1,"enable_lid":true}}}'
    )


def test_encoding_is_compact_utf8_json():
    chat = ChatData(TextContent(data="héllo 👋", timestamp=1, user_id=2))

    assert encode_message(chat) == (
        '{"msg_type":18,"content":{"data":"héllo 👋","timestamp":1,"user_id":2}}'
    )
    assert encode_message_bytes(chat) == encode_message(chat).encode("utf-8")


def test_lone_surrogate_text_still_encodes_to_valid_bytes():
    chat = parse_message('{"msg_type":18,"content":{"data":"a\\ud800b","timestamp":1}}')

    assert parse_message(encode_message_bytes(chat)) == chat


def test_stream_owner_id_falls_back_to_session_id_then_engagement_id():
    by_session = parse_message(
        '{"msg_type":1,"session_id":"sess","engagement_id":"eng","rtms_stream_id":"s",'
        '"signature":"x"}'
    )
    by_engagement = parse_message(
        '{"msg_type":1,"engagement_id":"eng","rtms_stream_id":"s","signature":"x"}'
    )

    assert isinstance(by_session, SignalingHandshakeRequest)
    assert isinstance(by_engagement, SignalingHandshakeRequest)
    assert (by_session.stream_owner_id, by_engagement.stream_owner_id) == ("sess", "eng")


def test_manual_sample_handshake_without_sequence_or_agent_parses():
    message = parse_message(
        '{"msg_type":1,"protocol_version":1,"meeting_uuid":"m","rtms_stream_id":"s",'
        '"signature":"x"}'
    )

    assert message == SignalingHandshakeRequest("s", "x", sequence=0, meeting_uuid="m")


def test_handshake_leaves_buffer_data_out_unless_it_is_set() -> None:
    request = SignalingHandshakeRequest("s", "x", sequence=7, meeting_uuid="m")

    assert "buffer_data" not in json.loads(encode_message(request))
    assert parse_message(encode_message(request)) == request


@pytest.mark.parametrize("buffer_data", [True, False])
def test_handshake_buffer_data_is_sent_as_a_json_boolean_and_read_back(buffer_data: bool) -> None:
    request = SignalingHandshakeRequest(
        "s", "x", sequence=7, meeting_uuid="m", buffer_data=buffer_data
    )

    assert json.loads(encode_message(request))["buffer_data"] is buffer_data
    assert encode_message(request).endswith(f'"buffer_data":{json.dumps(buffer_data)}}}')
    assert parse_message(encode_message(request)) == request


def test_handshake_without_buffer_data_parses_to_none_as_the_sdk_sends_it() -> None:
    message = parse_message(SDK_SIGNALING_HANDSHAKE)

    assert isinstance(message, SignalingHandshakeRequest)
    assert message.buffer_data is None


def test_participant_join_event_parses():
    frame = (
        '{"msg_type":6,"event":{"event_type":3,"timestamp":10,'
        '"participants":[{"user_id":16778240,"user_name":"Ada"},{"user_id":2}]}}'
    )

    assert parse_message(frame) == EventUpdate(
        RtmsEvent(
            event_type=EventType.PARTICIPANT_JOIN,
            timestamp=10,
            participants=(EventParticipant(16778240, "Ada"), EventParticipant(2)),
        )
    )


def test_active_speaker_event_parses():
    frame = '{"msg_type":6,"event":{"event_type":2,"timestamp":10,"user_id":7,"user_name":"B"}}'

    assert parse_message(frame) == EventUpdate(RtmsEvent(2, timestamp=10, user_id=7, user_name="B"))


def test_observed_stream_and_session_updates_parse():
    stream = parse_message('{"msg_type":8,"rtms_stream_id":"s","state":4,"reason":6,"timestamp":1}')
    session = parse_message(
        '{"msg_type":9,"rtms_session_id":"x","state":2,"reason":0,"timestamp":1}'
    )

    assert stream == StreamStateUpdate("s", StreamState.TERMINATED, StopReason.MEETING_ENDED, 1)
    assert session == SessionStateUpdate("x", state=2, reason=0, timestamp=1)


def test_audio_data_decodes_base64_payload():
    frame = '{"msg_type":14,"content":{"user_id":1,"user_name":"A","data":"AAEC","timestamp":9}}'

    assert parse_message(frame) == AudioData(BinaryContent(b"\x00\x01\x02", 9, 1, "A"))


@pytest.mark.parametrize(("msg_type", "cls"), [(14, AudioData), (15, VideoData), (16, ShareData)])
def test_binary_data_carries_zooms_2026_length_field(msg_type, cls):
    frame = {"msg_type": msg_type, "content": {"data": "AAEC", "timestamp": 3, "length": 3}}

    message = parse_message(json.dumps(frame))
    assert message == cls(BinaryContent(b"\x00\x01\x02", 3, length=3))
    assert json.loads(encode_message(message)) == frame
    # The fast path reads it too (audio is most of the traffic).
    assert parse_frame(json.dumps(frame)) == message


@pytest.mark.parametrize(("msg_type", "cls"), [(15, VideoData), (16, ShareData)])
def test_video_and_share_data_tolerate_a_data_uri_prefix(msg_type, cls):
    frame = {
        "msg_type": msg_type,
        "content": {"data": "data:image/jpeg;base64,/9j/", "timestamp": 3},
    }

    assert parse_message(json.dumps(frame)) == cls(BinaryContent(b"\xff\xd8\xff", 3))


def test_transcript_without_start_and_end_time_parses():
    message = parse_message('{"msg_type":17,"content":{"data":"hi","timestamp":4,"user_id":1}}')

    assert message == TranscriptData(TextContent("hi", 4, user_id=1))


def test_transcript_with_language_and_attribute_round_trips():
    transcript = TranscriptData(
        TextContent("hi", 4, start_time=1, end_time=2, language=9, attribute={"k": [1]})
    )

    assert parse_message(encode_message(transcript)) == transcript


@pytest.mark.parametrize(
    "frame",
    [
        pytest.param(bytearray(SDK_KEEP_ALIVE_RESPONSE), id="bytearray"),
        pytest.param(memoryview(SDK_KEEP_ALIVE_RESPONSE), id="memoryview"),
        pytest.param(SDK_KEEP_ALIVE_RESPONSE.decode(), id="str"),
    ],
)
def test_every_frame_type_is_accepted(frame):
    assert parse_message(frame) == KeepAliveResponse(timestamp=1730000000000, sequence=9)


MALFORMED = [
    (b"\xff\xfe{}", "not UTF-8", None),
    ("not json", "not JSON", None),
    ("", "not JSON", None),
    ("[1, 2]", "array, not a JSON object", None),
    ("null", "null, not a JSON object", None),
    ("{}", "msg_type: missing", None),
    ('{"msg_type": "1"}', "msg_type: expected an integer, got a string", None),
    ('{"msg_type": true}', "msg_type: expected an integer, got a boolean", None),
    ('{"msg_type": 1.0}', "msg_type: expected an integer, got a number", None),
    ('{"msg_type": 12, "timestamp": NaN}', "not strict JSON: NaN", None),
    ('{"msg_type": 12, "timestamp": 1e999}', "out of range", None),
    ("[" * 100_000 + "]" * 100_000, "nested too deeply", None),
    ('{"msg_type": 12, "timestamp": ' + "9" * 5000 + "}", "not acceptable JSON", None),
    ('{"msg_type": 12}', "timestamp: missing required field", 12),
    ('{"msg_type": 12, "timestamp": true}', "timestamp: expected an integer, got a boolean", 12),
    ('{"msg_type": 1, "rtms_stream_id": "s", "signature": "x"}', "meeting_uuid: missing", 1),
    (
        '{"msg_type": 1, "meeting_uuid": 5, "rtms_stream_id": "s", "signature": "x"}',
        "meeting_uuid: expected a string, got an integer",
        1,
    ),
    (
        '{"msg_type": 1, "meeting_uuid": "m", "rtms_stream_id": "s", "signature": "x",'
        ' "buffer_data": "false"}',
        "buffer_data: expected a boolean, got a string",
        1,
    ),
    (
        '{"msg_type": 1, "meeting_uuid": "m", "rtms_stream_id": "s", "signature": "x",'
        ' "buffer_data": 0}',
        "buffer_data: expected a boolean, got an integer",
        1,
    ),
    ('{"msg_type": 2, "reason": ""}', "status_code: missing required field", 2),
    (
        '{"msg_type": 2, "status_code": 0, "media_server": {"server_urls": {"audio": 1}}}',
        "media_server.server_urls.audio: expected a string, got an integer",
        2,
    ),
    (
        '{"msg_type": 3, "meeting_uuid": "m", "rtms_stream_id": "s", "signature": "x",'
        ' "media_type": 1, "media_params": {"audio": {"sample_rate": "48k"}}}',
        "media_params.audio.sample_rate: expected an integer, got a string",
        3,
    ),
    ('{"msg_type": 5, "events": [{"event_type": 2, "subscribe": 1}]}', "events[0].subscribe", 5),
    ('{"msg_type": 6, "event": []}', "event: expected an object, got an array", 6),
    ('{"msg_type": 6, "event": {"event_type": 3, "participants": [7]}}', "participants[0]", 6),
    ('{"msg_type": 14, "content": {"data": "@@@", "timestamp": 1}}', "content.data: invalid", 14),
    ('{"msg_type": 14, "content": {"data": "AAEC"}}', "content.timestamp: missing", 14),
    ('{"msg_type": 16, "content": {"data": "data:x,AAEC", "timestamp": 1}}', "data: URI", 16),
    ('{"msg_type": 17, "content": {"data": 5, "timestamp": 1}}', "content.data: expected a", 17),
    ('{"msg_type": 23, "interpreter": "x"}', "interpreter: expected an object", 23),
]


@pytest.mark.parametrize(("frame", "reason", "msg_type"), MALFORMED)
def test_malformed_frame_raises_protocol_error_with_reason(frame, reason, msg_type):
    with pytest.raises(ProtocolError) as caught:
        parse_message(frame)

    assert reason in caught.value.reason
    assert caught.value.msg_type == msg_type


@pytest.mark.parametrize("frame", [None, 42, ["{}"], {"msg_type": 7}])
def test_frame_of_wrong_python_type_raises_protocol_error(frame):
    with pytest.raises(ProtocolError, match="must be str or bytes"):
        parse_message(frame)


def test_from_dict_rejects_a_mismatched_msg_type():
    with pytest.raises(ProtocolError, match="msg_type: expected 7"):
        ClientReadyAck.from_dict({"msg_type": 21, "rtms_stream_id": "s"})


def test_protocol_error_is_a_value_error_that_pickles():
    error = ProtocolError("timestamp: missing required field", 12)

    restored = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own object

    assert isinstance(restored, ProtocolError) and isinstance(restored, ValueError)
    assert (restored.reason, restored.msg_type) == (error.reason, 12)
    assert str(restored) == "msg_type 12: timestamp: missing required field"


def test_enums_hold_the_reference_values():
    assert MsgType.VIDEO_SUBSCRIPTION_RESP == 29
    assert StatusCode.DUPLICATE_MEDIA_DATA_CONNECTION == 16
    assert StopReason.KEEP_ALIVE_TIMEOUT == 24
    assert TranscriptLanguage.ENGLISH == 9
    assert TranscriptLanguage.VIETNAMESE == 36
    assert [rate.hz for rate in AudioSampleRate] == [8000, 16000, 32000, 48000]
    assert MEDIA_URL_KEYS[MediaType.DESKSHARE] == "deskshare"


def test_data_handshake_response_defaults_to_unencrypted_payload():
    message = parse_message('{"msg_type":4,"status_code":0}')

    assert message == DataHandshakeResponse(status_code=0, payload_encrypted=False)
