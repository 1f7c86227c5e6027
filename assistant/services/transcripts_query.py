"""Read-only queries behind the dashboard and the JSON API; access is decided by the caller."""

from __future__ import annotations

from django.db import connection
from django.db.models import Case, IntegerField, Max, Min, QuerySet, Value, When
from django.db.models.functions import Coalesce

from assistant.models import ChatMessage, Meeting, Participant, TranscriptSegment
from assistant.services import tracks_sql

FINISHED_STATES = (Meeting.State.ENDED, Meeting.State.FAILED)


def dashboard_order(meetings: QuerySet[Meeting]) -> QuerySet[Meeting]:
    """Live meetings first, then newest start (segment counts: segment_counts, per page)."""
    return meetings.annotate(
        finished=Case(
            When(state__in=FINISHED_STATES, then=Value(1)),
            default=Value(0),
            output_field=IntegerField(),
        ),
        sort_time=Coalesce("started_at", "created_at"),
    ).order_by("finished", "-sort_time", "-id")


def segment_counts(meeting_ids: list[int]) -> dict[int, int]:
    """Captions of each of these meetings: the final segments of its primary track, as its
    page counts them (one grouped query for a page of meetings)."""
    if not meeting_ids:
        return {}
    rows, params = tracks_sql.meetings()
    marks = ", ".join(["%s"] * len(meeting_ids))
    sql = f"""
        SELECT s.meeting_id, count(*)
        FROM assistant_transcriptsegment s
        JOIN ({rows}) m ON m.id = s.meeting_id
        WHERE s.meeting_id IN ({marks}) AND s.final AND {tracks_sql.IS_PRIMARY}
        GROUP BY s.meeting_id
    """  # noqa: S608 (constants and placeholders only)
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, *meeting_ids])
        return {meeting_id: count for meeting_id, count in cursor.fetchall()}


def api_meetings_page(
    meetings: QuerySet[Meeting], *, state: str | None, before_id: int | None, size: int
) -> tuple[list[Meeting], int | None]:
    """One page of meetings, newest id first, and the cursor (an id) of the next page or None."""
    if state:
        meetings = meetings.filter(state=state)
    if before_id is not None:
        meetings = meetings.filter(pk__lt=before_id)
    rows = list(meetings.order_by("-id")[: size + 1])
    if len(rows) > size:
        return rows[:size], rows[size - 1].pk
    return rows, None


def segments_after(
    meeting_id: int, *, since: int, limit: int
) -> tuple[list[TranscriptSegment], int | None]:
    """Segments with seq > since in seq order, and the seq to continue from (None: no more)."""
    rows = list(
        TranscriptSegment.objects.filter(meeting_id=meeting_id, seq__gt=since).order_by("seq")[
            : limit + 1
        ]
    )
    if len(rows) > limit:
        return rows[:limit], rows[limit - 1].seq
    return rows, None


def transcript(meeting_id: int) -> QuerySet[TranscriptSegment]:
    """Every stored segment of a meeting, both tracks, in the order they were said."""
    # By start: a long utterance of ours is stored (and gets its seq) when it ends.
    return TranscriptSegment.objects.filter(meeting_id=meeting_id).order_by("start_ms", "seq")


def sources(meeting_id: int) -> list[str]:
    """The transcript tracks (TranscriptSegment.Source values) the meeting has so far."""
    rows = TranscriptSegment.objects.filter(meeting_id=meeting_id).values_list("source", flat=True)
    return list(rows.order_by().distinct())


def participants(meeting_id: int) -> QuerySet[Participant]:
    """The meeting's participants, in order of joining."""
    return Participant.objects.filter(meeting_id=meeting_id).order_by("joined_at_ms", "id")


def chat(meeting_id: int) -> QuerySet[ChatMessage]:
    """The meeting's chat lines, in seq order."""
    return ChatMessage.objects.filter(meeting_id=meeting_id).order_by("seq")


def first_segment_start(meeting_id: int) -> int | None:
    """start_ms of the meeting's first segment, the origin of its caption clock."""
    return (
        TranscriptSegment.objects.filter(meeting_id=meeting_id)
        .order_by("seq")
        .values_list("start_ms", flat=True)
        .first()
    )


def transcript_bounds(meeting_id: int) -> tuple[int, int] | None:
    """Earliest and latest segment start of a meeting (both tracks); None without segments."""
    bounds = TranscriptSegment.objects.filter(meeting_id=meeting_id).aggregate(
        first=Min("start_ms"), last=Max("start_ms")
    )
    return None if bounds["first"] is None else (bounds["first"], bounds["last"])


def transcript_window(meeting_id: int, start_ms: int, end_ms: int) -> QuerySet[TranscriptSegment]:
    """The segments (both tracks) that started in [start_ms, end_ms), in the order said."""
    return transcript(meeting_id).filter(start_ms__gte=start_ms, start_ms__lt=end_ms)


def segment_start(meeting_id: int, segment_id: int) -> int | None:
    """When a segment of this meeting started; None if the meeting has no such segment."""
    rows = TranscriptSegment.objects.filter(meeting_id=meeting_id, pk=segment_id)
    return rows.values_list("start_ms", flat=True).first()


def segment_near(meeting_id: int, at_ms: int) -> int | None:
    """The id of the segment of this meeting said last at or before `at_ms` (else the first)."""
    rows = TranscriptSegment.objects.filter(meeting_id=meeting_id)
    before = rows.filter(start_ms__lte=at_ms).order_by("-start_ms", "-seq")
    found = before.values_list("pk", flat=True).first()
    return (
        found
        if found is not None
        else rows.order_by("start_ms", "seq").values_list("pk", flat=True).first()
    )
