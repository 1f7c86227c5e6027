"""The finished meeting's talk-time chart and timeline, as numbers for server-rendered SVG.

Geometry only: the templates draw it (meetings/charts.html) with classes, never inline styles,
so the page keeps a strict Content-Security-Policy.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from assistant.services import slides, speaking
from assistant.views import presenters, slide_rows

TIMELINE_WIDTH = 1000  # SVG user units; the picture scales to the page width
MIN_TURN_WIDTH = 2.0  # SVG user units: a one-word turn in a long meeting stays visible


@dataclass(frozen=True)
class TalkBar:
    """One speaker's share of the speaking time."""

    name: str
    colour: str
    total_ms: int
    percent: float
    duration: str
    thumbnail_url: str = ""  # the speaker's camera, when video was taken

    @property
    def width(self) -> str:
        """The bar's length in a 100-unit-wide SVG."""
        return f"{self.percent:.2f}"


@dataclass(frozen=True)
class Lane:
    """One speaker's row of the timeline: where in the meeting they spoke."""

    name: str
    colour: str
    rects: list[tuple[str, str]]  # (x, width), one per turn, as wide as the turn is long


@dataclass(frozen=True)
class Mark:
    """A moment on the timeline (a join, a leave, a decision, an action item)."""

    kind: str
    x: str
    clock: str
    label: str
    url: str | None


@dataclass(frozen=True)
class Charts:
    """Everything the charts partial draws."""

    bars: list[TalkBar]
    lanes: list[Lane]
    marks: list[Mark]
    ticks: list[tuple[str, str]] = field(default_factory=list)  # (x, clock label)
    slides: list[slide_rows.SlideRow] = field(default_factory=list)  # pinned at their moment


def spoken(ms: int) -> str:
    """`1 h 02 min`, `12 min 30 s`, `45 s`."""
    seconds = round(ms / 1000)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    return f"{minutes} min {secs:02d} s" if minutes else f"{secs} s"


def _name(speaker: speaking.Speaker) -> str:
    return speaker[1] or (f"Participant {speaker[0]}" if speaker[0] else "Unknown speaker")


def meeting_charts(meeting_id: int, origin: int) -> Charts | None:
    """The talk-time bars and the timeline of a meeting; None when nobody spoke."""
    times = speaking.talk_times(meeting_id)
    bounds = speaking.span(meeting_id)
    if not times or bounds is None:
        return None
    # Colours in order of first speaking, as the transcript gives them.
    by_first = sorted(times, key=lambda t: t.first_ms)
    colours = {t.speaker: presenters.speaker_colour(i) for i, t in enumerate(by_first)}
    total = sum(t.total_ms for t in times) or 1
    cameras = slide_rows.camera_thumbnails(meeting_id)
    bars = [
        TalkBar(
            name=_name(t.speaker),
            colour=colours[t.speaker],
            total_ms=t.total_ms,
            percent=100 * t.total_ms / total,
            duration=spoken(t.total_ms),
            thumbnail_url=cameras.get(t.speaker[0], "") if t.speaker[0] is not None else "",
        )
        for t in times
    ]
    start, end = bounds
    return Charts(
        bars=bars,
        lanes=_lanes(meeting_id, start, end, by_first, colours),
        marks=_marks(meeting_id, start, end, origin),
        ticks=_ticks(start, end, origin),
        slides=slide_rows.slide_rows(slides.meeting_slides(meeting_id), origin, (start, end)),
    )


def _x(ms: int, start: int, end: int) -> float:
    return min(TIMELINE_WIDTH, max(0.0, (ms - start) * TIMELINE_WIDTH / (end - start)))


def _lanes(
    meeting_id: int,
    start: int,
    end: int,
    speakers: list[speaking.SpeakerTime],
    colours: dict[speaking.Speaker, str],
) -> list[Lane]:
    spans = speaking.turns(meeting_id)
    return [
        Lane(
            _name(t.speaker),
            colours[t.speaker],
            _turn_rects(spans.get(t.speaker, []), start, end),
        )
        for t in speakers
    ]


def _turn_rects(spans: list[tuple[int, int]], start: int, end: int) -> list[tuple[str, str]]:
    """One rect per turn from its start to its end; spans that touch once drawn become one."""
    drawn: list[list[float]] = []
    for span_start, span_end in spans:
        left = min(_x(span_start, start, end), TIMELINE_WIDTH - MIN_TURN_WIDTH)
        right = max(_x(span_end, start, end), left + MIN_TURN_WIDTH)
        if drawn and left <= drawn[-1][1]:
            drawn[-1][1] = max(drawn[-1][1], right)
        else:
            drawn.append([left, right])
    return [(f"{left:.1f}", f"{right - left:.1f}") for left, right in drawn]


def _marks(meeting_id: int, start: int, end: int, origin: int) -> list[Mark]:
    marks = []
    for m in speaking.moments(meeting_id):
        url = presenters.moment_url(meeting_id, m.segment_id) if m.segment_id else None
        marks.append(
            Mark(
                kind=m.kind,
                x=f"{_x(m.at_ms, start, end):.1f}",
                clock=_clock(m.at_ms, origin),
                label=m.label,
                url=url,
            )
        )
    return marks


def _ticks(start: int, end: int, origin: int) -> list[tuple[str, str]]:
    """Five clock labels spread evenly from the first word to the last (start, quarters, end)."""
    points = [start + (end - start) * k // 4 for k in range(5)]
    return [(f"{_x(at, start, end):.1f}", _clock(at, origin)) for at in points]


def _clock(at_ms: int, origin: int) -> str:
    """The clock label of a point drawn on the timeline; one before the origin reads 00:00.

    The clock counts from the first caption, so a join announced a moment before it would
    otherwise get no label at all while it is drawn at the timeline's start.
    """
    return presenters.clock_label(max(at_ms, origin), origin)
