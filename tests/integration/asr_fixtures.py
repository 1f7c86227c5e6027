"""The first seconds of the bundled sample meeting, with its audio, as a meeting of its own.

And the Redis database of the ASR tests' stack.
"""

from __future__ import annotations

import json
import wave
from pathlib import Path
from typing import Any

from rtms_ingest.simulator.fixture import SAMPLE_MEETING_DIR

ASR_REDIS_URL = "redis://127.0.0.1:6379/11"  # broker, commands, leases and audio of the ASR stack


def write_sample_excerpt(folder: Path, until_s: float) -> Path:
    """The sample's participants, utterances and chat that end before `until_s`, with audio."""
    sample: dict[str, Any] = json.loads((SAMPLE_MEETING_DIR / "meeting.json").read_text())
    utterances = [u for u in sample["utterances"] if u["end_s"] < until_s]
    present = [p for p in sample["participants"] if p["join_s"] < until_s]
    for person in present:
        if person["leave_s"] is not None and person["leave_s"] >= until_s:
            person["leave_s"] = None
    excerpt = {
        "topic": "Sample excerpt",
        "language": sample.get("language", "en"),
        "duration_s": until_s,
        "participants": present,
        "utterances": utterances,
        "chat": [c for c in sample.get("chat", []) if c["at_s"] < until_s],
    }
    target = folder / "sample_excerpt"
    (target / "audio").mkdir(parents=True, exist_ok=True)
    (target / "meeting.json").write_text(json.dumps(excerpt))
    speakers = {u["user_id"] for u in utterances}
    for user_id in speakers:
        with wave.open(str(SAMPLE_MEETING_DIR / "audio" / f"{user_id}.wav")) as source:
            frames = source.readframes(int(until_s * source.getframerate()))
            params = source.getparams()
        with wave.open(str(target / "audio" / f"{user_id}.wav"), "wb") as out:
            out.setparams(params)
            out.writeframes(frames)
    return target
