"""The media fast path means exactly what the full parser means, frame for frame."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from rtms_ingest.protocol import AudioData, ProtocolError, parse_message
from rtms_ingest.protocol.fast import parse_frame

_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.text(max_size=12)
    | st.floats(allow_nan=False, allow_infinity=False)
)
_b64 = st.binary(max_size=64).map(lambda b: base64.b64encode(b).decode()) | st.sampled_from(
    ["", "AAA", "AA==", "=AAA", "AAAA====", "data:audio/raw;base64,AAAA", "A A=", "****"]
)


@st.composite
def audio_frames(draw: st.DrawFn) -> str:
    content: dict[str, Any] = {"data": draw(_b64), "timestamp": draw(st.integers(0, 2**53))}
    for key in ("user_id", "user_name", "channel_id"):
        if draw(st.booleans()):
            content[key] = draw(_scalars | st.integers(0, 2**31))
    for key in ("data", "timestamp"):
        if draw(st.integers(0, 5)) == 0:
            content[key] = draw(_scalars)
    frame: dict[str, Any] = {
        "msg_type": draw(st.sampled_from([14, 14, 14, 15, 17])),
        "content": content,
    }
    return json.dumps(frame)


def _outcome(parse: Any, frame: str) -> object:
    try:
        return parse(frame)
    except ProtocolError as exc:
        return ("error", str(exc))


@settings(max_examples=400, derandomize=True)
@given(frame=audio_frames())
# orjson reads an integer past 64 bits as a float; the reference parser as an int.
@example(frame='{"msg_type": 14, "content": {"data": -9223372036854775809, "timestamp": null}}')
@example(frame='{"msg_type": 14, "content": {"data": "", "timestamp": 18446744073709551621}}')
def test_fast_path_parses_every_audio_frame_as_the_full_parser_does(frame: str) -> None:
    assert _outcome(parse_frame, frame) == _outcome(parse_message, frame)


@pytest.mark.parametrize(
    "frame",
    ['{"msg_type":12,"timestamp":1,"sequence":2}', "not json", "[]", '{"msg_type":1e999}'],
)
def test_other_frames_go_through_the_full_parser(frame: str) -> None:
    assert _outcome(parse_frame, frame) == _outcome(parse_message, frame)


def test_binary_audio_frame_is_decoded_once_into_pcm() -> None:
    frame = json.dumps(
        {"msg_type": 14, "content": {"data": "AAEC", "timestamp": 5, "user_id": 7}}
    ).encode()
    message = parse_frame(frame)
    assert isinstance(message, AudioData)
    assert message.content.data == b"\x00\x01\x02"
    assert message.content.user_id == 7
