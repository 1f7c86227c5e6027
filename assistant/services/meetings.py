"""Creating meetings from RTMS streams and moving them through their connection states."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from assistant import events
from assistant.models import ConnectionLogEntry, Meeting, ZoomUserLink
from assistant.services import live, notes

State = Meeting.State


@dataclass(frozen=True)
class ZoomMeetingFacts:
    """What rtms_started says of the meeting since Zoom's April 2026 release (reference §7)."""

    account_id: str = ""
    meeting_number: int | None = None
    operator_is_original_host: bool | None = None


def open_stream(
    *,
    product: str,
    zoom_id: str,
    rtms_stream_id: str,
    operator_id: str = "",
    topic: str = "",
    facts: ZoomMeetingFacts | None = None,
) -> tuple[Meeting, bool]:
    """The meeting row of a stream, created on first sight; owner from the operator's link.

    A later start of the same stream (a rejoin, Zoom's failover) fills in facts the row lacks.
    """
    facts = facts or ZoomMeetingFacts()
    existing = Meeting.objects.filter(rtms_stream_id=rtms_stream_id).first()
    if existing is not None:
        _fill_facts(existing, facts)
        return existing, False
    owner_id = (
        ZoomUserLink.objects.filter(zoom_user_id=operator_id)
        .values_list("user_id", flat=True)
        .first()
        if operator_id
        else None
    )
    try:
        with transaction.atomic():
            meeting = Meeting.objects.create(
                product=product,
                zoom_id=zoom_id,
                rtms_stream_id=rtms_stream_id,
                operator_id=operator_id,
                owner_id=owner_id,
                topic=topic,
                zoom_account_id=facts.account_id,
                meeting_number=facts.meeting_number,
                operator_is_original_host=facts.operator_is_original_host,
            )
            return meeting, True
    except IntegrityError:
        return Meeting.objects.get(rtms_stream_id=rtms_stream_id), False


def _fill_facts(meeting: Meeting, facts: ZoomMeetingFacts) -> None:
    changed: dict[str, object] = {}
    if facts.account_id and not meeting.zoom_account_id:
        changed["zoom_account_id"] = facts.account_id
    if facts.meeting_number is not None and meeting.meeting_number is None:
        changed["meeting_number"] = facts.meeting_number
    if facts.operator_is_original_host is not None and meeting.operator_is_original_host is None:
        changed["operator_is_original_host"] = facts.operator_is_original_host
    if changed:
        Meeting.objects.filter(pk=meeting.pk).update(**changed)
        for name, value in changed.items():
            setattr(meeting, name, value)


def set_state(
    meeting_id: int, state: str, *, detail: str = "", reason: int | None = None
) -> Meeting:
    """Record a connection state change, log it and tell the viewers."""
    with transaction.atomic():
        seq = live.next_seq(meeting_id)
        meeting = Meeting.objects.get(pk=meeting_id)
        fields = ["state"]
        meeting.state = state
        if state == State.LIVE and meeting.started_at is None:
            meeting.started_at = timezone.now()
            fields.append("started_at")
        if state in Meeting.FINISHED_STATES:
            meeting.ended_at = meeting.ended_at or timezone.now()
            meeting.stop_reason = reason
            fields += ["ended_at", "stop_reason"]
        meeting.save(update_fields=fields)
        if state in Meeting.FINISHED_STATES:
            notes.meeting_ended(meeting_id)  # a job, queued once this transaction commits
        ConnectionLogEntry.objects.create(
            meeting_id=meeting_id,
            kind=ConnectionLogEntry.Kind.STOP
            if state in Meeting.FINISHED_STATES
            else ConnectionLogEntry.Kind.STATE,
            state=state,
            reason=reason,
            detail=detail,
        )
        event: events.StatePayload = {
            "type": events.STATE,
            "seq": seq,
            "state": state,
            "detail": detail,
            "stop_reason": reason,
        }
        live.publish(meeting_id, event)
        return meeting


def record_gap(
    meeting_id: int,
    detail: str,
    *,
    from_ms: int | None = None,
    to_ms: int | None = None,
    frames_lost: int | None = None,
) -> None:
    """Note a stretch of the stream that may have lost data (a dropped socket, a reconnect).

    `from_ms` and `to_ms` bound it on the stream clock and `frames_lost` counts what was lost,
    each None when the ingest could not tell.
    """
    with transaction.atomic():
        seq = live.next_seq(meeting_id)
        ConnectionLogEntry.objects.create(
            meeting_id=meeting_id,
            kind=ConnectionLogEntry.Kind.GAP,
            detail=detail,
            from_ms=from_ms,
            to_ms=to_ms,
            frames_lost=frames_lost,
        )
        state = Meeting.objects.values_list("state", flat=True).get(pk=meeting_id)
        gap: events.GapPayload = {
            "type": events.STATE,
            "seq": seq,
            "state": events.GAP,
            "detail": detail,
            "stop_reason": None,
            "current": state,
            "from_ms": from_ms,
            "to_ms": to_ms,
            "frames_lost": frames_lost,
        }
        live.publish(meeting_id, gap)


def set_topic(meeting_id: int, topic: str) -> None:
    """Name a meeting (the webhook carries no topic; the simulator and the API may)."""
    Meeting.objects.filter(pk=meeting_id).update(topic=topic[:300])


OPEN_STATES = (State.PENDING, State.CONNECTING, State.LIVE, State.RECONNECTING)


def finish_if_open(meeting_id: int, state: str, *, detail: str, reason: int | None) -> bool:
    """Move a meeting to ENDED or FAILED unless it is over already; whether it moved.

    An ended meeting stays ended: a late failure (a rejoin Zoom refused because the stream had
    ended meanwhile) must not overwrite how it ended.
    """
    with transaction.atomic():
        # Lock the row before looking: whoever else ends it (the ingest, a stop webhook) waits
        # for us or we for them, so an ENDED meeting is never overwritten with FAILED.
        current = (
            Meeting.objects.select_for_update()
            .filter(pk=meeting_id)
            .values_list("state", flat=True)
            .first()
        )
        if current not in OPEN_STATES:
            return False
        set_state(meeting_id, state, detail=detail, reason=reason)
        return True


def failure_detail(meeting: Meeting) -> str:
    """Why a failed meeting's stream failed, as its end was logged ("" for any other meeting)."""
    if meeting.state != State.FAILED:
        return ""
    stops = ConnectionLogEntry.objects.filter(
        meeting_id=meeting.pk, kind=ConnectionLogEntry.Kind.STOP
    ).order_by("-pk")
    return stops.values_list("detail", flat=True).first() or ""


def fail_if_open(meeting_id: int, detail: str, reason: int | None = None) -> bool:
    """Mark a meeting FAILED if it is still open; False if it had ended or failed already."""
    return finish_if_open(meeting_id, State.FAILED, detail=detail, reason=reason)


def end_stream_if_open(rtms_stream_id: str, stop_reason: int | None) -> bool:
    """A stop for a stream no ingest holds: mark its meeting ENDED with Zoom's reason, if open."""
    meeting_id = (
        Meeting.objects.filter(rtms_stream_id=rtms_stream_id).values_list("pk", flat=True).first()
    )
    if meeting_id is None:
        return False
    return finish_if_open(meeting_id, State.ENDED, detail="stopped by Zoom", reason=stop_reason)


def fail_orphaned_streams(
    is_held: Callable[[list[str]], set[str]], created_before: datetime
) -> int:
    """Mark open meetings whose stream no ingest holds any more (a crashed process) failed."""
    candidates = dict(
        Meeting.objects.filter(state__in=OPEN_STATES, created_at__lt=created_before).values_list(
            "rtms_stream_id", "pk"
        )
    )
    if not candidates:
        return 0
    held = is_held(list(candidates))
    orphaned = [pk for stream_id, pk in candidates.items() if stream_id not in held]
    # A meeting may end between the read above and here: fail_if_open looks again, locked.
    return sum(
        fail_if_open(meeting_id, "no ingest holds this stream any more") for meeting_id in orphaned
    )
