"""Services that change state: idempotent re-delivery, ordered sequence numbers, events."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from assistant.models import LiveEvent, Meeting, TranscriptSegment
from assistant.services import meetings, participants
from assistant.services.chat import record_chat
from assistant.services.transcript import SegmentInput, record_segment

pytestmark = pytest.mark.django_db


def segment(start_ms: int = 1000, text: str = "Hello there.") -> SegmentInput:
    return SegmentInput("native", 101, "Ana Lima", start_ms, start_ms + 900, text, "en")


def test_redelivered_segment_is_stored_once(make_meeting: Callable[..., Meeting]) -> None:
    meeting = make_meeting()
    assert record_segment(meeting.pk, segment()) is not None
    assert record_segment(meeting.pk, segment()) is None
    assert TranscriptSegment.objects.filter(meeting=meeting).count() == 1
    assert LiveEvent.objects.filter(meeting=meeting).count() == 1


def test_events_of_a_meeting_get_consecutive_sequence_numbers(
    make_meeting: Callable[..., Meeting],
) -> None:
    meeting = make_meeting()
    record_segment(meeting.pk, segment(1000))
    record_chat(meeting.pk, 101, "Ana Lima", 1500, "link")
    participants.record_join(meeting.pk, 202, "Ben Ode", 1600)
    record_segment(meeting.pk, segment(2000, "Second."))
    seqs = list(LiveEvent.objects.filter(meeting=meeting).values_list("seq", flat=True))
    assert seqs == [1, 2, 3, 4]
    assert Meeting.objects.get(pk=meeting.pk).last_seq == 4


def test_sequence_numbers_are_per_meeting(make_meeting: Callable[..., Meeting]) -> None:
    first, second = make_meeting(), make_meeting()
    record_segment(first.pk, segment())
    record_segment(second.pk, segment())
    assert TranscriptSegment.objects.get(meeting=second).seq == 1


def test_empty_transcript_text_is_not_stored(make_meeting: Callable[..., Meeting]) -> None:
    meeting = make_meeting()
    assert record_segment(meeting.pk, segment(text="   ")) is None
    assert not LiveEvent.objects.filter(meeting=meeting).exists()


def test_repeated_join_announcement_after_reconnect_publishes_nothing(
    make_meeting: Callable[..., Meeting],
) -> None:
    meeting = make_meeting()
    participants.record_join(meeting.pk, 202, "Ben Ode", 100)
    participants.record_join(meeting.pk, 202, "Ben Ode", 5000)
    assert LiveEvent.objects.filter(meeting=meeting).count() == 1


def test_rejoin_after_leave_is_published(make_meeting: Callable[..., Meeting]) -> None:
    meeting = make_meeting()
    participants.record_join(meeting.pk, 202, "Ben Ode", 100)
    participants.record_leave(meeting.pk, 202, None, 200)
    participants.record_join(meeting.pk, 202, "Ben Ode", 300)
    actions = [e.payload["action"] for e in LiveEvent.objects.filter(meeting=meeting)]
    assert actions == ["join", "leave", "join"]


def test_ending_a_meeting_records_stop_reason_and_time(
    make_meeting: Callable[..., Meeting],
) -> None:
    meeting = make_meeting()
    meetings.set_state(meeting.pk, Meeting.State.LIVE)
    meetings.set_state(meeting.pk, Meeting.State.ENDED, detail="meeting ended", reason=6)
    ended = Meeting.objects.get(pk=meeting.pk)
    assert (ended.state, ended.stop_reason) == ("ended", 6)
    assert ended.started_at is not None and ended.ended_at is not None
    assert ended.connection_log.filter(kind="stop", reason=6).exists()


def test_open_stream_makes_the_linked_host_the_owner(host: object) -> None:
    meeting, created = meetings.open_stream(
        product="meeting", zoom_id="u==", rtms_stream_id="s-owner", operator_id="zoom-host-1"
    )
    assert created and meeting.owner == host
    again, created_again = meetings.open_stream(
        product="meeting", zoom_id="u==", rtms_stream_id="s-owner", operator_id="zoom-host-1"
    )
    assert again.pk == meeting.pk and not created_again


def test_orphan_sweep_leaves_a_meeting_that_ended_meanwhile_ended(
    make_meeting: Callable[..., Meeting],
) -> None:
    meeting = make_meeting()
    meetings.set_state(meeting.pk, Meeting.State.LIVE)

    def ends_while_redis_is_asked(stream_ids: list[str]) -> set[str]:
        meetings.set_state(meeting.pk, Meeting.State.ENDED, detail="meeting ended", reason=6)
        return set()

    failed = meetings.fail_orphaned_streams(
        ends_while_redis_is_asked, timezone.now() + timedelta(seconds=1)
    )
    after = Meeting.objects.get(pk=meeting.pk)
    assert failed == 0
    assert (after.state, after.stop_reason) == (Meeting.State.ENDED, 6)


@pytest.mark.django_db(transaction=True)
def test_orphan_sweep_waits_for_an_end_in_flight_and_leaves_it_ended(
    make_meeting: Callable[..., Meeting],
) -> None:
    meeting = make_meeting()
    meetings.set_state(meeting.pk, Meeting.State.LIVE)
    ending = threading.Event()

    def end_slowly() -> None:
        try:
            with transaction.atomic():
                meetings.set_state(meeting.pk, Meeting.State.ENDED, reason=6)
                ending.set()
                time.sleep(0.5)  # the sweep reads the meeting as live meanwhile
        finally:
            connection.close()

    ender = threading.Thread(target=end_slowly)
    ender.start()
    assert ending.wait(5)
    failed = meetings.fail_orphaned_streams(
        lambda ids: set(), timezone.now() + timedelta(seconds=1)
    )
    ender.join()
    assert failed == 0
    assert Meeting.objects.get(pk=meeting.pk).state == Meeting.State.ENDED


def test_orphan_sweep_fails_open_meetings_nobody_holds(
    make_meeting: Callable[..., Meeting],
) -> None:
    held, orphan = make_meeting(), make_meeting()
    failed = meetings.fail_orphaned_streams(
        lambda ids: {held.rtms_stream_id}, timezone.now() + timedelta(seconds=1)
    )
    assert failed == 1
    assert Meeting.objects.get(pk=orphan.pk).state == Meeting.State.FAILED
    assert Meeting.objects.get(pk=held.pk).state == Meeting.State.PENDING


def test_end_stream_if_open_ends_an_open_meeting_with_zoom_reason(
    make_meeting: Callable[..., Meeting],
) -> None:
    meeting = make_meeting()
    assert meetings.end_stream_if_open(meeting.rtms_stream_id, 6)
    ended = Meeting.objects.get(pk=meeting.pk)
    assert (ended.state, ended.stop_reason) == (Meeting.State.ENDED, 6)
    assert ended.connection_log.filter(kind="stop", reason=6, detail="stopped by Zoom").exists()


def test_end_stream_if_open_leaves_a_failed_meeting_failed(
    make_meeting: Callable[..., Meeting],
) -> None:
    meeting = make_meeting()
    meetings.set_state(meeting.pk, Meeting.State.FAILED, reason=10)
    assert not meetings.end_stream_if_open(meeting.rtms_stream_id, 6)
    assert not meetings.end_stream_if_open("stream-never-seen", 6)
    after = Meeting.objects.get(pk=meeting.pk)
    assert (after.state, after.stop_reason) == (Meeting.State.FAILED, 10)
