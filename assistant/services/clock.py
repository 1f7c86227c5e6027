"""How a moment of a meeting is written for people: time since its start."""

from __future__ import annotations


def elapsed(offset_ms: int) -> str:
    """`mm:ss`, or `h:mm:ss` from the first hour on (a negative offset counts as 0)."""
    seconds = max(0, offset_ms) // 1000
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"
