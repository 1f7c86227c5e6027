"""Small recorded meetings written on the fly (native transcript only, a few seconds long)."""

from __future__ import annotations

import json
from pathlib import Path


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
