"""A finished meeting's transcript shown a part at a time: fixed windows of meeting time.

Time windows rather than row counts: both tracks of a stretch of the meeting land on the same
part, a moment's part follows from its time alone (`?at=<segment id>`), and each part is one
range read on the (meeting, start_ms) index.
"""

from __future__ import annotations

from dataclasses import dataclass

from assistant.services import transcripts_query
from assistant.views import presenters

PART_MS = 15 * 60_000


@dataclass(frozen=True)
class PartLink:
    """One entry of the parts navigation."""

    number: int
    label: str
    current: bool


@dataclass(frozen=True)
class Parts:
    """The part shown and the links to all parts."""

    number: int
    start_ms: int
    end_ms: int
    links: list[PartLink]

    @property
    def many(self) -> bool:
        """Whether there is more than one part (and so a navigation)."""
        return len(self.links) > 1

    @property
    def previous(self) -> int | None:
        """The number of the part before, if any."""
        return self.number - 1 if self.number > 1 else None

    @property
    def next(self) -> int | None:
        """The number of the part after, if any."""
        return self.number + 1 if self.number < len(self.links) else None


def _number(raw: str | None) -> int | None:
    try:
        return int(raw) if raw else None
    except ValueError:
        return None


def parts(meeting_id: int, origin: int, part: str | None, at: str | None) -> Parts:
    """The part to show: the one holding segment `at`, else number `part`, else the first."""
    bounds = transcripts_query.transcript_bounds(meeting_id)
    if bounds is None:
        return Parts(1, 0, 0, [])
    first, last = bounds
    count = (last - first) // PART_MS + 1
    number = _number(part) or 1
    at_id = _number(at)
    if at_id is not None:
        start = transcripts_query.segment_start(meeting_id, at_id)
        if start is not None:
            number = (start - first) // PART_MS + 1
    number = max(1, min(count, number))
    links = [
        PartLink(
            n,
            "\u2013".join(
                presenters.clock_label(first + (n - 1 + k) * PART_MS, origin) or "…" for k in (0, 1)
            ),
            n == number,
        )
        for n in range(1, count + 1)
    ]
    start_ms = first + (number - 1) * PART_MS
    return Parts(number, start_ms, start_ms + PART_MS, links)
