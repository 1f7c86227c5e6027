"""Participants joining, leaving and speaking."""

from __future__ import annotations

from django.db import transaction

from assistant import events
from assistant.models import Participant
from assistant.services import live


def record_join(meeting_id: int, user_id: int, name: str, at_ms: int | None) -> Participant:
    """Mark a participant present; a repeated announcement (after a reconnect) changes nothing."""
    with transaction.atomic():
        live.lock_meeting(meeting_id)
        participant, created = Participant.objects.get_or_create(
            meeting_id=meeting_id,
            zoom_user_id=user_id,
            defaults={"name": name, "joined_at_ms": at_ms},
        )
        if not created:
            if participant.is_present and (participant.name == name or not name):
                return participant
            participant.name = name or participant.name
            participant.is_present = True
            participant.left_at_ms = None
            participant.save(update_fields=["name", "is_present", "left_at_ms"])
        seq = live.next_seq(meeting_id)
        live.publish(
            meeting_id, _payload(seq, "join", participant.zoom_user_id, participant.name, at_ms)
        )
        return participant


def record_leave(meeting_id: int, user_id: int, name: str | None, at_ms: int | None) -> None:
    """Mark a participant gone; a repeated leave, or one for nobody we saw join, changes nothing."""
    # `name` is not needed: only a participant whose join we recorded (with its name) can leave.
    with transaction.atomic():
        live.lock_meeting(meeting_id)
        participant = Participant.objects.filter(
            meeting_id=meeting_id, zoom_user_id=user_id
        ).first()
        if participant is None or not participant.is_present:
            return
        participant.is_present = False
        participant.left_at_ms = at_ms
        participant.save(update_fields=["is_present", "left_at_ms"])
        seq = live.next_seq(meeting_id)
        live.publish(
            meeting_id, _payload(seq, "leave", participant.zoom_user_id, participant.name, at_ms)
        )


def record_active_speaker(meeting_id: int, user_id: int, name: str, at_ms: int | None) -> None:
    """Publish who is speaking now (not stored beyond the event log)."""
    if not name:
        found = Participant.objects.filter(meeting_id=meeting_id, zoom_user_id=user_id).first()
        name = found.name if found else ""
    live.append(meeting_id, lambda seq: _payload(seq, "speaking", user_id, name, at_ms))


def _payload(
    seq: int, action: events.ParticipantAction, user_id: int, name: str, at_ms: int | None
) -> events.ParticipantPayload:
    """The live event of a participant's join, leave or turn to speak."""
    return {
        "type": events.PARTICIPANT,
        "seq": seq,
        "action": action,
        "user_id": user_id,
        "name": name,
        "at_ms": at_ms,
    }
