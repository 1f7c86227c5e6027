"""When notes are updated: the trigger, the job on the llm queue, the lock, the live event."""

from __future__ import annotations

import pytest
from pytest_django.fixtures import Settings

from assistant import events, jobs
from assistant.celery import app as celery_app
from assistant.models import LiveEvent, MeetingNotes
from assistant.services.notes import segment_stored, updates
from tests.assistant.notes.conftest import PlaySample

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _extractive_in_process(settings: Settings) -> None:
    settings.NOTES_ENGINE = "extractive"
    settings.LLM_BASE_URL = ""
    settings.JOBS_IN_PROCESS = True
    settings.NOTES_EXTRACT_UPDATE_SEGMENTS = 5
    settings.NOTES_EXTRACT_UPDATE_SECONDS = 3600


def test_notes_follow_the_meeting_as_segments_arrive(play_sample: PlaySample) -> None:
    meeting = play_sample(after_each=segment_stored)
    jobs.shutdown()  # runs every queued job to its end

    notes = MeetingNotes.objects.get(meeting=meeting)
    # 21 segments, an update once 5 are new: fewer than 5 are left uncovered, waiting for more
    # or the end (how the batches fall depends on when each in-process job ran).
    assert meeting.segments.filter(seq__gt=notes.covered_seq).count() < 5
    assert 2 <= notes.version <= 5
    assert not notes.update_queued
    pushed = LiveEvent.objects.filter(meeting=meeting, type=events.NOTES).order_by("seq")
    assert pushed.count() == notes.version
    last = pushed.last()
    assert last is not None and last.payload["engine"] == "extractive"
    assert set(last.payload) == set(events.NotesPayload.__annotations__)


def test_the_llm_waits_for_more_transcript_than_the_extract(
    play_sample: PlaySample, settings: Settings
) -> None:
    settings.NOTES_ENGINE = "llm"
    settings.LLM_BASE_URL = "http://127.0.0.1:9/v1"
    settings.NOTES_UPDATE_SEGMENTS = 60
    settings.NOTES_UPDATE_SECONDS = 300
    meeting = play_sample(limit=10)
    assert segment_stored(meeting.pk) is False
    settings.NOTES_ENGINE = "extractive"
    assert segment_stored(meeting.pk) is True
    jobs.shutdown()


def test_too_little_new_transcript_queues_nothing(play_sample: PlaySample) -> None:
    meeting = play_sample(limit=4)
    assert segment_stored(meeting.pk) is False
    assert not MeetingNotes.objects.get(meeting=meeting).update_queued


def test_enough_seconds_of_speech_queue_an_update(
    play_sample: PlaySample, settings: Settings
) -> None:
    settings.NOTES_EXTRACT_UPDATE_SECONDS = 20
    meeting = play_sample(limit=4)  # 0.5 s to 25 s of speech
    assert segment_stored(meeting.pk) is True
    jobs.shutdown()
    assert MeetingNotes.objects.get(meeting=meeting).version == 1


def test_an_update_never_runs_while_another_holds_the_lock(play_sample: PlaySample) -> None:
    meeting = play_sample()
    jobs.shutdown()  # whatever the segments queued has run
    before = MeetingNotes.objects.get(meeting=meeting).version
    token = updates._claim(meeting.pk)
    assert token is not None
    assert updates.update(meeting.pk) is False
    assert MeetingNotes.objects.get(meeting=meeting).version == before
    updates._release(meeting.pk, token)
    assert updates.update(meeting.pk) is True
    assert updates._claim(meeting.pk) is not None  # released after the update


def test_a_retried_job_takes_back_the_lock_its_failed_run_could_not_release(
    play_sample: PlaySample,
) -> None:
    meeting = play_sample(limit=4)  # too few segments to have queued an update
    # The job's first run took the lock under its task id, then the database went away.
    assert updates._claim(meeting.pk, "task-1") == "task-1"
    assert updates.update(meeting.pk, job_id="task-2") is False, "another job still waits"
    assert updates.update(meeting.pk, job_id="task-1") is True, "its retry goes on"
    assert MeetingNotes.objects.get(meeting=meeting).version == 1
    assert updates._claim(meeting.pk) is not None, "and releases the lock"


def test_the_end_of_a_meeting_writes_final_notes(play_sample: PlaySample) -> None:
    meeting = play_sample()
    updates.meeting_ended(meeting.pk)
    jobs.shutdown()
    notes = MeetingNotes.objects.get(meeting=meeting)
    assert notes.is_final
    assert notes.title == meeting.topic
    assert notes.covered_seq == meeting.segments.order_by("-seq")[0].seq


def test_an_update_the_broker_could_not_take_is_asked_for_again(
    play_sample: PlaySample, settings: Settings
) -> None:
    meeting = play_sample(limit=4)  # 0.5 s to 25 s of speech
    settings.NOTES_EXTRACT_UPDATE_SECONDS = 20  # enough for an update
    settings.JOBS_IN_PROCESS = False
    original = celery_app.conf.broker_url
    _publish_to("redis://127.0.0.1:1/0")  # Redis is down: nothing listens there
    try:
        assert segment_stored(meeting.pk) is False
        notes = MeetingNotes.objects.get(meeting=meeting)
        assert not notes.update_queued, "left set, no update would ever be queued again"
    finally:
        _publish_to(original)
    settings.JOBS_IN_PROCESS = True
    assert segment_stored(meeting.pk) is True  # Redis is back: the next segment asks again
    jobs.shutdown()
    assert MeetingNotes.objects.get(meeting=meeting).version == 1


def _publish_to(url: str) -> None:
    celery_app.conf.broker_url = url
    # The app caches producer pools built from the broker URL: drop them for the new one.
    celery_app._pool = None
    celery_app.amqp._producer_pool = None
