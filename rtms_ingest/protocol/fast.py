"""The media hot path: one frame parsed with no more work than the sink needs.

Audio is almost all of an ingest's traffic (a four-speaker meeting is 200 frames a second), so
an audio frame is loaded by orjson and its content built directly, its base64 decoded once
(pybase64, with SIMD). Any frame the fast path is not sure about goes through the full strict
parser, so every frame means exactly what `parse_message` says it means.
"""

from __future__ import annotations

import orjson
from pybase64 import b64decode

from rtms_ingest.protocol.messages import (
    AudioData,
    BinaryContent,
    Message,
    MsgType,
    parse_message,
)

__all__ = ["parse_frame"]

_AUDIO = int(MsgType.MEDIA_DATA_AUDIO)


def parse_frame(frame: str | bytes) -> Message:
    """`parse_message`, faster for audio data; raises ProtocolError, never anything else."""
    try:
        data = orjson.loads(frame)
    except orjson.JSONDecodeError:
        data = None
    if type(data) is dict and data.get("msg_type") == _AUDIO:
        audio = _audio(data.get("content"))
        if audio is not None:
            return audio
    # Everything else is read by the reference parser, from the frame: orjson differs from it
    # at the edges (it refuses lone surrogates, and reads an integer past 64 bits as a float),
    # so a value orjson loaded is trusted only where _audio checked each field's type.
    return parse_message(frame)


def _audio(content: object) -> AudioData | None:
    """The audio message, or None when the full parser must look (unusual or bad content)."""
    if type(content) is not dict:
        return None
    get = content.get
    text = get("data")
    timestamp = get("timestamp")
    user_id = get("user_id")
    user_name = get("user_name")
    channel_id = get("channel_id")
    length = get("length")
    # type() is: bool must not pass for an int, as in the full parser. A "data:" prefix has
    # a colon, which the decoder refuses: the full parser strips it.
    if (
        type(text) is not str
        or type(timestamp) is not int
        or (user_id is not None and type(user_id) is not int)
        or (user_name is not None and type(user_name) is not str)
        or (channel_id is not None and type(channel_id) is not int)
        or (length is not None and type(length) is not int)
    ):
        return None
    try:
        pcm = b64decode(text, validate=True)
    except ValueError:  # binascii.Error: a character or padding the alphabet does not allow
        return None
    return AudioData(BinaryContent(pcm, timestamp, user_id, user_name, channel_id, length))
