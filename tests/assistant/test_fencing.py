"""Fencing the ingest's writes by lease generation, on the real PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from assistant.models import Meeting
from assistant.services.fencing import StaleWriter, check_writer, hand_over, write_as
from assistant.services.meetings import set_topic

pytestmark = pytest.mark.django_db


def test_a_newer_generation_takes_the_stream_and_an_older_one_is_refused(
    make_meeting: Callable[..., Meeting],
) -> None:
    meeting = make_meeting()
    write_as(meeting.pk, 10, set_topic, meeting.pk, "first holder")
    write_as(meeting.pk, 20, set_topic, meeting.pk, "second holder")
    with pytest.raises(StaleWriter):
        write_as(meeting.pk, 10, set_topic, meeting.pk, "woken first holder")
    with pytest.raises(StaleWriter):
        check_writer(meeting.pk, 10)
    meeting.refresh_from_db()
    assert (meeting.topic, meeting.writer_generation) == ("second holder", 20)


def test_a_holder_that_handed_over_may_finish_its_writes(
    make_meeting: Callable[..., Meeting],
) -> None:
    meeting = make_meeting()
    write_as(meeting.pk, 10, set_topic, meeting.pk, "before")
    hand_over(meeting.pk, 10)
    write_as(meeting.pk, 20, set_topic, meeting.pk, "successor")
    write_as(meeting.pk, 10, set_topic, meeting.pk, "read before the successor came")
    check_writer(meeting.pk, 10)
    with pytest.raises(StaleWriter):  # but not one that never handed over
        write_as(meeting.pk, 5, set_topic, meeting.pk, "paused long ago")


def test_a_stale_holder_cannot_declare_a_hand_over(make_meeting: Callable[..., Meeting]) -> None:
    meeting = make_meeting()
    write_as(meeting.pk, 20, set_topic, meeting.pk, "current")
    hand_over(meeting.pk, 10)  # woken after the takeover: changes nothing
    with pytest.raises(StaleWriter):
        write_as(meeting.pk, 10, set_topic, meeting.pk, "stale")


def test_generation_zero_is_not_fenced(make_meeting: Callable[..., Meeting]) -> None:
    meeting = make_meeting()
    write_as(meeting.pk, 20, set_topic, meeting.pk, "leased")
    write_as(meeting.pk, 0, set_topic, meeting.pk, "no lease")
    meeting.refresh_from_db()
    assert (meeting.topic, meeting.writer_generation) == ("no lease", 20)
