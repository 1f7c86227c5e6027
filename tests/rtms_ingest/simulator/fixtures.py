"""Small recorded meetings written on the fly: text only, or with a tone for every utterance."""

from __future__ import annotations

import json
import math
import wave
from array import array
from collections.abc import Sequence
from pathlib import Path

SAMPLE_RATE = 16_000


def write_short_meeting(folder: Path, duration_s: float = 4.0) -> Path:
    """A two-person meeting with three utterances and one chat line; returns its folder."""
    meeting = {
        "topic": "Short sync",
        "duration_s": duration_s,
        "participants": [
            {"user_id": 101, "user_name": "Ana Lima", "join_s": 0.0, "leave_s": None},
            {"user_id": 202, "user_name": "Ben Ode", "join_s": 0.2, "leave_s": None},
        ],
        "utterances": [
            {"user_id": 101, "start_s": 0.3, "end_s": 1.0, "text": "Morning, shall we start?"},
            {"user_id": 202, "start_s": 1.1, "end_s": 2.0, "text": "Yes, the build is green."},
            {"user_id": 101, "start_s": 2.1, "end_s": 3.0, "text": "Great, ship it Thursday."},
        ],
        "chat": [{"user_id": 202, "at_s": 1.5, "text": "https://example.com/build/42"}],
    }
    target = folder / "short_sync"
    target.mkdir(parents=True, exist_ok=True)
    (target / "meeting.json").write_text(json.dumps(meeting))
    return target


def _tone_second(freq: int) -> bytes:
    """One second of a sine tone (a whole number of periods), 16 kHz mono int16 little-endian."""
    samples = array(
        "h",
        (
            int(6000 * math.sin(2 * math.pi * freq * (i + 0.5) / SAMPLE_RATE))
            for i in range(SAMPLE_RATE)
        ),
    )
    return samples.tobytes()


def write_talking_meeting(
    folder: Path,
    duration_s: float,
    utterances: Sequence[tuple[int, float, float, str]],
    chat: Sequence[tuple[int, float, str]] = (),
) -> Path:
    """A meeting whose speakers (user_id, start_s, end_s, text) sound a tone while they talk.

    Everyone who speaks is present from 0 to the end and has `audio/<user_id>.wav` (16 kHz
    mono int16, silence between their utterances). Returns the folder.
    """
    speakers = sorted({user for user, _, _, _ in utterances})
    doc = {
        "topic": "Talking meeting",
        "duration_s": duration_s,
        "participants": [
            {"user_id": user, "user_name": f"Speaker {user}", "join_s": 0.0, "leave_s": None}
            for user in speakers
        ],
        "utterances": [
            {"user_id": user, "start_s": start, "end_s": end, "text": text}
            for user, start, end, text in utterances
        ],
        "chat": [{"user_id": user, "at_s": at, "text": text} for user, at, text in chat],
    }
    target = folder / "talking"
    (target / "audio").mkdir(parents=True, exist_ok=True)
    (target / "meeting.json").write_text(json.dumps(doc), encoding="utf-8")
    for n, user in enumerate(speakers):
        pcm = bytearray(2 * round(duration_s * SAMPLE_RATE))
        second = _tone_second(300 + 150 * n)
        for speaker, start, end, _ in utterances:
            if speaker == user:
                first, last = 2 * round(start * SAMPLE_RATE), 2 * round(end * SAMPLE_RATE)
                repeats = math.ceil((last - first) / len(second))
                pcm[first:last] = (second * repeats)[: last - first]
        with wave.open(str(target / "audio" / f"{user}.wav"), "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(SAMPLE_RATE)
            out.writeframes(bytes(pcm))
    return target
