"""How a moment of a meeting is written for people: time since its start."""

from __future__ import annotations

# Stream clocks below a day count from the stream's start; above, they are wall-clock ms.
WALL_CLOCK_MS = 86_400_000


def elapsed(offset_ms: int) -> str:
    """`mm:ss`, or `h:mm:ss` from the first hour on (a negative offset counts as 0)."""
    seconds = max(0, offset_ms) // 1000
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


def origin(first_start_ms: int | None) -> int:
    """The value a meeting's caption clock counts from: 0, or its first wall-clock start."""
    if first_start_ms is not None and first_start_ms >= WALL_CLOCK_MS:
        return first_start_ms
    return 0
