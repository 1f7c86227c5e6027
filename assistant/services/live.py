"""The live-event outbox: next sequence number, store, broadcast once committed.

The broadcast goes through `services.broadcasts`, which sends it on the right event loop.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.db import IntegrityError, connection, models, transaction

from assistant import events
from assistant.models import LiveEvent, Meeting
from assistant.services import broadcasts

RowT = TypeVar("RowT", bound=models.Model)


def lock_meeting(meeting_id: int) -> None:
    """Serialise writers of one meeting until the transaction ends (always lock it first)."""
    list(Meeting.objects.select_for_update().filter(pk=meeting_id).values_list("pk"))


def next_seq(meeting_id: int) -> int:
    """Reserve the meeting's next sequence number; call inside the transaction that uses it.

    One statement: the UPDATE takes the row lock (as select_for_update would) and returns the
    new number (PostgreSQL, and SQLite from 3.35).
    """
    table = connection.ops.quote_name(Meeting._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET last_seq = last_seq + 1 WHERE id = %s RETURNING last_seq",  # noqa: S608
            [meeting_id],
        )
        row = cursor.fetchone()
    if row is None:
        raise Meeting.DoesNotExist(f"meeting {meeting_id} does not exist")
    return int(row[0])


def publish(meeting_id: int, payload: events.LivePayload) -> events.LivePayload:
    """Store an event under its `seq` and push it to the meeting's viewers once the commit lands."""
    seq = payload["seq"]
    LiveEvent.objects.create(meeting_id=meeting_id, seq=seq, type=payload["type"], payload=payload)
    broadcasts.after_commit(live_broadcast(meeting_id, payload))
    return payload


def publish_new_row(
    meeting_id: int,
    create: Callable[[int], RowT],
    payload: Callable[[RowT], events.LivePayload],
) -> RowT | None:
    """Create a row under the next sequence number and publish it; None if it was stored before.

    `create(seq)` must insert a row with a unique key for the thing received: a re-delivery
    (a reconnect, a second ingest, a retried write) then hits that key and changes nothing.
    `payload(row)` builds the event of that row, with the row's `seq`.
    """
    try:
        with transaction.atomic():
            seq = next_seq(meeting_id)
            row = create(seq)
            event = payload(row)
            if event["seq"] != seq:
                raise ValueError(f"event built with seq {event['seq']}, reserved {seq}")
            publish(meeting_id, event)
            return row
    except IntegrityError:
        return None


def append(meeting_id: int, build: Callable[[int], events.LivePayload]) -> events.LivePayload:
    """Publish an event that has no row of its own, built with the next sequence number."""
    with transaction.atomic():
        return publish(meeting_id, build(next_seq(meeting_id)))


def live_broadcast(meeting_id: int, payload: events.LivePayload) -> broadcasts.Broadcast:
    """The Channels message that carries one event to the meeting's viewers."""
    return broadcasts.Broadcast(
        group=events.meeting_group(meeting_id),
        message={"type": events.CHANNEL_MESSAGE_TYPE, "event": payload},
        about=f"meeting {meeting_id} seq {payload['seq']}",
    )


def broadcast(meeting_id: int, payload: events.LivePayload) -> None:
    """Send one event to the meeting's viewers from a thread, now (best effort: see publish)."""
    broadcasts.send_from_thread([live_broadcast(meeting_id, payload)])


def events_since(meeting_id: int, since: int, limit: int = 1000) -> list[dict[str, Any]]:
    """Events after `since`, oldest first, as pushed live."""
    rows = (
        LiveEvent.objects.filter(meeting_id=meeting_id, seq__gt=since)
        .order_by("seq")
        .values_list("payload", flat=True)[:limit]
    )
    return list(rows)
