"""Participant leaves: published once, and only for someone we saw join."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from assistant import events
from assistant.models import LiveEvent, Meeting, Participant
from assistant.services import participants

pytestmark = pytest.mark.django_db


def published(meeting: Meeting) -> list[tuple[str, str]]:
    return [(e.type, e.payload["action"]) for e in LiveEvent.objects.filter(meeting=meeting)]


def test_repeated_leave_is_published_once(make_meeting: Callable[..., Meeting]) -> None:
    meeting = make_meeting()
    participants.record_join(meeting.pk, 202, "Ben Ode", 100)
    participants.record_leave(meeting.pk, 202, "Ben Ode", 200)
    participants.record_leave(meeting.pk, 202, "Ben Ode", 900)
    assert published(meeting) == [(events.PARTICIPANT, "join"), (events.PARTICIPANT, "leave")]
    gone = Participant.objects.get(meeting=meeting, zoom_user_id=202)
    assert (gone.is_present, gone.left_at_ms) == (False, 200)


def test_leave_of_someone_never_seen_joining_changes_nothing(
    make_meeting: Callable[..., Meeting],
) -> None:
    meeting = make_meeting()
    participants.record_leave(meeting.pk, 303, "Cy Noh", 200)
    assert not Participant.objects.filter(meeting=meeting).exists()
    assert published(meeting) == []
    assert Meeting.objects.get(pk=meeting.pk).last_seq == 0
