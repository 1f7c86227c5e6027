"""The meetings list's filters: dates, host, live or ended, open action items, text."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import BooleanField, Exists, OuterRef, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone

from assistant.models import ActionItem, Meeting
from assistant.services import search

LIVE, ENDED = "live", "ended"


@dataclass(frozen=True)
class MeetingFilters:
    """What the list is narrowed to; empty values filter nothing."""

    text: str = ""
    date_from: dt.date | None = None
    date_to: dt.date | None = None  # inclusive
    host_id: int | None = None
    status: str = ""  # LIVE, ENDED or ""
    open_items: bool = False

    @property
    def active(self) -> bool:
        """Whether any filter is set."""
        return self != MeetingFilters()


def _midnight(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def filter_meetings(meetings: QuerySet[Meeting], f: MeetingFilters) -> QuerySet[Meeting]:
    """`meetings` narrowed by the filters (each one an indexed condition or a semi-join)."""
    if f.date_from is not None:
        start = _midnight(f.date_from)
        meetings = meetings.filter(
            Q(started_at__gte=start) | Q(started_at__isnull=True, created_at__gte=start)
        )
    if f.date_to is not None:
        end = _midnight(f.date_to + dt.timedelta(days=1))
        meetings = meetings.filter(
            Q(started_at__lt=end) | Q(started_at__isnull=True, created_at__lt=end)
        )
    if f.host_id is not None:
        meetings = meetings.filter(owner_id=f.host_id)
    if f.status == LIVE:
        meetings = meetings.exclude(state__in=Meeting.FINISHED_STATES)
    elif f.status == ENDED:
        meetings = meetings.filter(state__in=Meeting.FINISHED_STATES)
    if f.open_items:
        open_items = ActionItem.objects.filter(meeting_id=OuterRef("pk"), done=False)
        meetings = meetings.filter(Exists(open_items))
    if f.text:
        in_topic = Q(topic__icontains=f.text)
        said = search.said_in_meeting(f.text)  # our SQL; the query text is a parameter
        if said is None:
            meetings = meetings.filter(in_topic)
        else:
            in_words = RawSQL(*said, output_field=BooleanField())  # noqa: S611
            meetings = meetings.filter(in_topic | Q(in_words))
    return meetings
