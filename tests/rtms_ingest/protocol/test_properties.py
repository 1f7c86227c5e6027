"""Properties of rtms_ingest.protocol: messages round-trip; bad input raises only ProtocolError."""

import json
import typing
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rtms_ingest import protocol as p

# No example database: it would write .hypothesis/ into the shared work tree.
MODEST = settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
FUZZ = settings(MODEST, max_examples=300)

ints = st.integers()
texts = st.text(max_size=20)
json_scalars = (
    st.none() | st.booleans() | ints | st.floats(allow_nan=False, allow_infinity=False) | texts
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
json_objects = st.dictionaries(st.text(max_size=8), json_values, max_size=4)


def optional(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.none() | strategy


def all_optional(cls: type, **kinds: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.builds(cls, **{name: optional(kind) for name, kind in kinds.items()})


media_params = all_optional(
    p.MediaParams,
    audio=all_optional(
        p.AudioParams,
        content_type=ints,
        codec=ints,
        sample_rate=ints,
        channel=ints,
        data_opt=ints,
        send_rate=ints,
        frame_size=ints,
    ),
    video=all_optional(
        p.VideoParams, content_type=ints, codec=ints, resolution=ints, data_opt=ints, fps=ints
    ),
    deskshare=all_optional(
        p.DeskshareParams, content_type=ints, codec=ints, resolution=ints, fps=ints
    ),
    transcript=all_optional(
        p.TranscriptParams, content_type=ints, src_language=ints, enable_lid=st.booleans()
    ),
    chat=all_optional(p.ChatParams, content_type=ints),
)
owner_ids = {key: optional(texts) for key in ("meeting_uuid", "session_id", "engagement_id")}
binary_content = st.builds(
    p.BinaryContent,
    data=st.binary(max_size=64),
    timestamp=ints,
    user_id=optional(ints),
    user_name=optional(texts),
    channel_id=optional(ints),
)
text_content = st.builds(
    p.TextContent,
    data=texts,
    timestamp=ints,
    user_id=optional(ints),
    user_name=optional(texts),
    channel_id=optional(ints),
    start_time=optional(ints),
    end_time=optional(ints),
    language=optional(ints),
    attribute=json_values,
)
raw_body = st.dictionaries(
    st.text(max_size=8).filter(lambda key: key != "msg_type"), json_values, max_size=4
)
known = range(1, 30)

MESSAGES: dict[type, st.SearchStrategy[Any]] = {
    p.SignalingHandshakeRequest: st.builds(
        p.SignalingHandshakeRequest,
        rtms_stream_id=texts,
        signature=texts,
        sequence=ints,
        protocol_version=ints,
        rtms_client_agent=optional(texts),
        buffer_data=optional(st.booleans()),
        **owner_ids,
    ).filter(lambda m: m.stream_owner_id is not None),
    p.SignalingHandshakeResponse: st.builds(
        p.SignalingHandshakeResponse,
        status_code=ints,
        sequence=ints,
        protocol_version=ints,
        reason=texts,
        server_urls=optional(st.dictionaries(texts, texts, max_size=6)),
        srtp_keys=optional(json_objects),
    ),
    p.DataHandshakeRequest: st.builds(
        p.DataHandshakeRequest,
        rtms_stream_id=texts,
        signature=texts,
        media_type=ints,
        sequence=ints,
        protocol_version=ints,
        payload_encryption=optional(st.booleans()),
        media_params=optional(media_params),
        **owner_ids,
    ).filter(lambda m: m.stream_owner_id is not None),
    p.DataHandshakeResponse: st.builds(
        p.DataHandshakeResponse,
        status_code=ints,
        sequence=ints,
        protocol_version=ints,
        reason=texts,
        payload_encrypted=st.booleans(),
        media_params=optional(media_params),
    ),
    p.EventSubscription: st.builds(
        p.EventSubscription,
        events=st.lists(st.builds(p.EventSubscriptionItem, ints, st.booleans()), max_size=4).map(
            tuple
        ),
    ),
    p.EventUpdate: st.builds(
        p.EventUpdate,
        event=st.builds(
            p.RtmsEvent,
            event_type=ints,
            timestamp=optional(ints),
            user_id=optional(ints),
            user_name=optional(texts),
            participants=st.lists(
                st.builds(p.EventParticipant, ints, optional(texts)), max_size=3
            ).map(tuple),
        ),
    ),
    p.ClientReadyAck: st.builds(p.ClientReadyAck, texts),
    p.StreamStateUpdate: st.builds(p.StreamStateUpdate, texts, ints, ints, optional(ints)),
    p.SessionStateUpdate: st.builds(p.SessionStateUpdate, texts, ints, ints, optional(ints)),
    p.SessionStateRequest: st.builds(p.SessionStateRequest, optional(texts)),
    p.SessionStateResponse: st.builds(p.SessionStateResponse, optional(texts), optional(ints)),
    p.KeepAliveRequest: st.builds(p.KeepAliveRequest, ints, optional(ints)),
    p.KeepAliveResponse: st.builds(p.KeepAliveResponse, optional(ints), optional(ints)),
    p.AudioData: st.builds(p.AudioData, binary_content),
    p.VideoData: st.builds(p.VideoData, binary_content),
    p.ShareData: st.builds(p.ShareData, binary_content),
    p.TranscriptData: st.builds(p.TranscriptData, text_content),
    p.ChatData: st.builds(p.ChatData, text_content),
    p.StreamStateRequest: st.builds(p.StreamStateRequest, optional(texts)),
    p.StreamStateResponse: st.builds(
        p.StreamStateResponse, optional(texts), optional(ints), optional(ints)
    ),
    p.StreamCloseRequest: st.builds(p.StreamCloseRequest, texts),
    p.StreamCloseResponse: st.builds(p.StreamCloseResponse, optional(texts), ints, texts),
    p.VideoSubscriptionRequest: st.builds(
        p.VideoSubscriptionRequest, ints, st.booleans(), optional(ints)
    ),
    p.VideoSubscriptionResponse: st.builds(
        p.VideoSubscriptionResponse, ints, ints, texts, optional(ints), optional(ints)
    ),
    p.AudioMetadata: st.builds(p.AudioMetadata, json_objects),
    p.ReservedMetadata: st.builds(p.ReservedMetadata, st.sampled_from(range(24, 28)), raw_body),
    p.UnknownMessage: st.builds(p.UnknownMessage, ints.filter(lambda n: n not in known), raw_body),
}
CLASSES = list(MESSAGES)
any_message = st.sampled_from(CLASSES).flatmap(MESSAGES.__getitem__)

WIRE_NAMES = sorted(
    {
        *("msg_type", "protocol_version", "meeting_uuid", "session_id", "engagement_id"),
        *("rtms_stream_id", "rtms_session_id", "sequence", "signature", "rtms_client_agent"),
        *("status_code", "reason", "media_server", "server_urls", "srtp_keys", "media_type"),
        *("payload_encryption", "payload_encrypted", "media_params", "audio", "video"),
        *("deskshare", "transcript", "chat", "all", "content_type", "codec", "sample_rate"),
        *("channel", "data_opt", "send_rate", "frame_size", "resolution", "fps"),
        *("src_language", "enable_lid", "events", "event_type", "subscribe", "event"),
        *("timestamp", "user_id", "user_name", "participants", "state", "content", "data"),
        *("channel_id", "start_time", "end_time", "language", "attribute", "interpreter"),
    }
)
wire_keys = st.sampled_from(WIRE_NAMES) | st.text(max_size=4)
wire_values = st.recursive(
    json_scalars | st.sampled_from(["AAEC", "data:a;base64,AA==", "data:x", "@@"]),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(wire_keys, children, max_size=5)
    ),
    max_leaves=15,
)


def parses_or_protocol_error(frame: str | bytes) -> None:
    try:
        message = p.parse_message(frame)
    except p.ProtocolError as error:
        assert error.reason
    else:
        assert isinstance(message, typing.get_args(p.Message))


def test_every_message_class_has_a_strategy():
    assert set(CLASSES) == set(typing.get_args(p.Message))


@pytest.mark.parametrize("cls", CLASSES, ids=lambda cls: cls.__name__)
@MODEST
@given(data=st.data())
def test_message_round_trips_through_text(cls, data):
    message = data.draw(MESSAGES[cls])

    assert p.parse_message(p.encode_message(message)) == message


@pytest.mark.parametrize("cls", CLASSES, ids=lambda cls: cls.__name__)
@MODEST
@given(data=st.data())
def test_message_round_trips_through_bytes(cls, data):
    message = data.draw(MESSAGES[cls])

    assert p.parse_message(p.encode_message_bytes(message)) == message


@MODEST
@given(message=any_message)
def test_message_round_trips_through_sdk_style_pretty_json(message):
    frame = json.dumps(message.to_dict(), indent="\t", sort_keys=True, separators=(",", " : "))

    assert p.parse_message(frame.encode()) == message


@MODEST
@given(message=any_message)
def test_from_dict_inverts_to_dict(message):
    assert type(message).from_dict(message.to_dict()) == message


@FUZZ
@given(frame=st.binary(max_size=200))
def test_arbitrary_bytes_raise_nothing_but_protocol_error(frame):
    parses_or_protocol_error(frame)


@FUZZ
@given(frame=st.text(max_size=200))
def test_arbitrary_text_raises_nothing_but_protocol_error(frame):
    parses_or_protocol_error(frame)


@FUZZ
@given(value=json_values)
def test_arbitrary_json_raises_nothing_but_protocol_error(value):
    parses_or_protocol_error(json.dumps(value))


@FUZZ
@given(msg_type=st.sampled_from(range(30)), body=st.dictionaries(wire_keys, wire_values))
def test_random_fields_under_a_valid_msg_type_raise_nothing_but_protocol_error(msg_type, body):
    parses_or_protocol_error(json.dumps({**body, "msg_type": msg_type}))


@st.composite
def corrupted_messages(draw: st.DrawFn) -> dict[str, Any]:
    """A valid message's dict with one value somewhere inside replaced by random JSON."""
    wire = draw(any_message).to_dict()
    node: Any = wire
    while True:
        keys = list(node) if isinstance(node, dict) else list(range(len(node)))
        key = draw(st.sampled_from(keys))
        child = node[key]
        if isinstance(child, dict | list) and child and draw(st.booleans()):
            node = child
            continue
        if key != "msg_type":
            node[key] = draw(wire_values)
        return wire


@FUZZ
@given(wire=corrupted_messages())
def test_a_corrupted_field_raises_nothing_but_protocol_error(wire):
    parses_or_protocol_error(json.dumps(wire))
