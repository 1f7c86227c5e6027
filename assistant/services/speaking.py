"""Who spoke how long and when: sums over a meeting's primary track, computed in the database."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, F, Max, Min, Sum

from assistant.models import ActionItem, Decision, Participant, TranscriptSegment
from assistant.services import tracks

Speaker = tuple[int | None, str]  # (speaker_user_id, speaker_name), as segments name them


@dataclass(frozen=True)
class SpeakerTime:
    """One speaker's total speaking time (the sum of their segments' durations)."""

    speaker: Speaker
    total_ms: int
    segments: int
    first_ms: int


@dataclass(frozen=True)
class Moment:
    """Something that happened at a point of the meeting (stream clock)."""

    kind: str  # join, leave, decision, action
    at_ms: int
    label: str
    segment_id: int | None = None


def talk_times(meeting_id: int) -> list[SpeakerTime]:
    """Each speaker's speaking time on the primary track, most first."""
    rows = (
        tracks.primary_track(meeting_id)
        .values("speaker_user_id", "speaker_name")
        .annotate(total=Sum(F("end_ms") - F("start_ms")), n=Count("id"), first=Min("start_ms"))
        .order_by("-total", "first")
    )
    return [
        SpeakerTime(
            (r["speaker_user_id"], r["speaker_name"]), max(0, r["total"]), r["n"], r["first"]
        )
        for r in rows
    ]


def span(meeting_id: int) -> tuple[int, int] | None:
    """First start and last end on the primary track; None without segments."""
    bounds = tracks.primary_track(meeting_id).aggregate(start=Min("start_ms"), end=Max("end_ms"))
    if bounds["start"] is None:
        return None
    return bounds["start"], max(bounds["end"], bounds["start"] + 1)


def turns(meeting_id: int) -> dict[Speaker, list[tuple[int, int]]]:
    """Each speaker's (start_ms, end_ms) spans on the primary track, in time order."""
    rows = (
        tracks.primary_track(meeting_id)
        .order_by("start_ms", "seq")
        .values_list("speaker_user_id", "speaker_name", "start_ms", "end_ms")
    )
    result: dict[Speaker, list[tuple[int, int]]] = {}
    for user_id, name, start_ms, end_ms in rows:
        result.setdefault((user_id, name), []).append((start_ms, max(start_ms, end_ms)))
    return result


def moments(meeting_id: int) -> list[Moment]:
    """Joins and leaves, and where each decision and action item was said, in time order."""
    found: list[Moment] = []
    for p in Participant.objects.filter(meeting_id=meeting_id):
        name = p.name or f"Participant {p.zoom_user_id}"
        if p.joined_at_ms is not None:
            found.append(Moment("join", p.joined_at_ms, f"{name} joined"))
        if p.left_at_ms is not None:
            found.append(Moment("leave", p.left_at_ms, f"{name} left"))
    noted = [
        ("decision", d.text, d.segment_ids) for d in Decision.objects.filter(meeting_id=meeting_id)
    ]
    noted += [
        ("action", a.text, a.segment_ids) for a in ActionItem.objects.filter(meeting_id=meeting_id)
    ]
    ids = [int(i) for _, _, seg_ids in noted for i in seg_ids[:1]]
    starts = dict(
        TranscriptSegment.objects.filter(meeting_id=meeting_id, pk__in=ids).values_list(
            "pk", "start_ms"
        )
    )
    for kind, text, seg_ids in noted:
        if seg_ids and int(seg_ids[0]) in starts:
            first = int(seg_ids[0])
            found.append(Moment(kind, starts[first], text, first))
    return sorted(found, key=lambda m: m.at_ms)
