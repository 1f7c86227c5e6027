"""A Celery worker SIGKILLed mid-job (parent and pool child, as the OOM killer or a lost host
would): the job runs again on another worker within seconds, nothing doubled, nothing lost.

Real processes on a Redis of the test's own and the test database. A worker is stopped dead at
a chosen point of a task (tests/integration/paused_worker.py) and then killed, so the job is
known to be exactly there. The visibility timeout is 3 s here (30 s in production); meanwhile
another live worker must not be handed the job while the first one lives.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from django.utils import timezone
from pytest_django.fixtures import Settings

from assistant import events, jobs
from assistant.models import ActionItem, Decision, LiveEvent, Meeting, MeetingNotes, Participant
from assistant.models import TranscriptSegment as Segment
from assistant.services import speech
from assistant.services.notes import updates
from assistant.services.transcript import record_segment
from assistant.transcription.wer import word_error_rate
from rtms_ingest.simulator.fixture import load_meeting
from tests.assistant.notes.conftest import MEETING_DAY, sample, sample_inputs
from tests.integration.asr_fixtures import write_sample_excerpt
from tests.integration.conftest import stack_database_url
from tests.integration.killable_worker import KillableWorker
from tests.integration.own_redis import OwnRedis
from tests.integration.stack import stack_env
from tests.integration.test_asr import MAX_WER, excerpt_pcm

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(120)]

VISIBILITY_S = 3
# A killed worker's job is back within the visibility timeout and one look-up (1 s here): far
# below kombu's default (an hour), with room for a loaded machine (2 cores, CI).
REDELIVERED_WITHIN_S = 10 * VISIBILITY_S


@pytest.fixture
def broker(own_redis_server: OwnRedis, settings: Settings) -> Iterator[redis.Redis]:
    """This test process queues jobs and keeps audio in the test's Redis, as the ingest would."""
    from assistant.celery import app

    url = own_redis_server.url()
    settings.JOBS_IN_PROCESS = False
    settings.REDIS_URL = url  # the audio store
    original = app.conf.broker_url
    _publish_to(app, url)
    client = redis.Redis.from_url(url)
    yield client
    client.close()
    _publish_to(app, original)


def _publish_to(app: Any, url: str) -> None:
    app.conf.broker_url = url
    # The app caches producer pools built from the broker URL: drop them for the new one.
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def start_worker(
    own_redis_server: OwnRedis, tmp_path: Path
) -> Iterator[Callable[..., KillableWorker]]:
    """Starts workers on the test's Redis (visibility timeout 3 s); stops those left at the end."""
    env = stack_env(stack_database_url(), own_redis_server.url()) | {
        "JOBS_VISIBILITY_TIMEOUT_S": str(VISIBILITY_S),
        "LOG_LEVEL": "INFO",
        "NOTES_ENGINE": "extractive",
    }
    started: list[KillableWorker] = []

    def start(name: str, queues: str, pause_at: str = "") -> KillableWorker:
        worker = KillableWorker(name, env, queues, tmp_path, pause_at)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


def until(condition: Callable[[], object], timeout_s: float, *context: KillableWorker) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError("timed out\n" + "\n".join(w.tail() for w in context))


def hold_while_alive(paused: KillableWorker, other: KillableWorker) -> None:
    """The paused worker lives on, past the visibility timeout: its job stays its own."""
    other.wait_until_ready()
    time.sleep(2.5 * VISIBILITY_S)
    assert paused.process.poll() is None, paused.tail()
    assert other.received() == [], "a live worker's job was handed to another\n" + other.tail()


def notes_rows(meeting_id: int) -> dict[str, list[tuple[Any, ...]]]:
    """Decisions and action items as stored, their sources by time said (ids differ by meeting)."""
    said_at = dict(Segment.objects.filter(meeting_id=meeting_id).values_list("pk", "start_ms"))
    return {
        "decisions": [
            (d.key, d.text, [said_at[i] for i in d.segment_ids])
            for d in Decision.objects.filter(meeting_id=meeting_id).order_by("position")
        ],
        "action_items": [
            (a.key, a.text, a.owner, a.due_text, a.due_date, [said_at[i] for i in a.segment_ids])
            for a in ActionItem.objects.filter(meeting_id=meeting_id).order_by("position")
        ],
    }


@pytest.fixture
def play_sample(settings: Settings) -> Callable[[str], Meeting]:
    """Store the sample meeting's participants and segments, queueing no notes job."""
    settings.NOTES_ENGINE = "extractive"
    settings.NOTES_EXTRACT_UPDATE_SEGMENTS = 10**6
    settings.NOTES_EXTRACT_UPDATE_SECONDS = 10**6

    def play(stream_id: str) -> Meeting:
        data = sample()
        meeting = Meeting.objects.create(
            zoom_id=f"{stream_id}==",
            rtms_stream_id=stream_id,
            topic=data["topic"],
            state=Meeting.State.LIVE,
            started_at=MEETING_DAY,
        )
        for p in data["participants"]:
            Participant.objects.create(
                meeting=meeting, zoom_user_id=p["user_id"], name=p["user_name"]
            )
        for segment in sample_inputs():
            record_segment(meeting.pk, segment)
        return meeting

    return play


def updated_and_released(meeting: Meeting) -> bool:
    notes = MeetingNotes.objects.get(meeting=meeting)
    return notes.version == 1 and notes.locked_until is None


def test_notes_jobs_whose_worker_is_killed_run_again_and_double_nothing(
    broker: redis.Redis,
    start_worker: Callable[..., KillableWorker],
    play_sample: Callable[[str], Meeting],
) -> None:
    # What one update and the final notes make of the sample when nothing goes wrong.
    reference = play_sample("reference")
    assert updates.update(reference.pk) and updates.finish(reference.pk)
    expected = notes_rows(reference.pk)
    assert expected["decisions"] and expected["action_items"]
    meeting = play_sample("killed-notes")
    last_seq = Segment.objects.filter(meeting=meeting).order_by("-seq")[0].seq

    # Killed in the middle of an update: it holds the meeting's notes lock, nothing is stored.
    jobs.submit(jobs.UPDATE_NOTES, meeting.pk)
    first = start_worker(
        "a", "llm", "llm.update_notes@assistant.services.notes.updates:_rolling:before"
    )
    update_job = first.wait_until_paused()
    held = MeetingNotes.objects.get(meeting=meeting)
    assert (held.lock_token, held.version) == (update_job, 0)
    second = start_worker("b", "llm", "llm.final_notes@assistant.services.notes.store:save:after")
    hold_while_alive(first, second)
    first.kill()
    killed_at = time.monotonic()
    # Delivered again, the job takes its own lock back (it would expire only after 300 s),
    # stores the update, then releases the lock (a statement of its own, just after).
    until(lambda: updated_and_released(meeting), 45, first, second)
    assert time.monotonic() - killed_at < REDELIVERED_WITHIN_S
    assert second.received() == [update_job]
    notes = MeetingNotes.objects.get(meeting=meeting)
    assert notes.covered_seq == last_seq and notes.locked_until is None

    # Killed after the final notes were stored, before the job was acknowledged.
    jobs.submit(jobs.FINAL_NOTES, meeting.pk)
    final_job = second.wait_until_paused()
    assert MeetingNotes.objects.get(meeting=meeting).is_final
    assert notes_rows(meeting.pk) == expected
    second.kill()
    third = start_worker("c", "llm")
    until(lambda: final_job in third.succeeded(), 30, second, third)

    notes = MeetingNotes.objects.get(meeting=meeting)
    assert notes.is_final and notes.version == 3, "the final notes ran a second time"
    assert notes.covered_seq == last_seq and notes.locked_until is None
    assert notes_rows(meeting.pk) == expected, "nothing doubled, nothing lost"


def test_an_asr_job_whose_worker_is_killed_records_its_text_once(
    broker: redis.Redis, start_worker: Callable[..., KillableWorker], tmp_path: Path
) -> None:
    excerpt = load_meeting(write_sample_excerpt(tmp_path, 23.0))
    said = excerpt.utterances[1]
    # Recognised after its meeting ended (a last sentence): its text is followed by final notes.
    meeting = Meeting.objects.create(
        zoom_id="killed-asr==",
        rtms_stream_id="stream-killed-asr",
        state=Meeting.State.ENDED,
        ended_at=timezone.now(),
    )
    start_ms, end_ms = round(said.start_s * 1000), round(said.end_s * 1000)
    job = speech.UtteranceJob(
        meeting.pk, said.user_id, excerpt.user_name(said.user_id), start_ms, start_ms, end_ms, 0,
        final=True,
    )  # fmt: skip
    speech.hand_over_utterance(job, excerpt_pcm(excerpt, said.user_id, said.start_s, said.end_s))

    # Killed while recognising: nothing stored.
    first = start_worker(
        "a", "asr", "asr.transcribe_utterance@assistant.transcription:recognise:before"
    )
    asr_job = first.wait_until_paused()
    after_store = "asr.transcribe_utterance@assistant.services.transcript:_final_text_stored:before"
    second = start_worker("b", "asr", after_store)
    hold_while_alive(first, second)
    assert not Segment.objects.filter(meeting=meeting).exists()
    first.kill()
    killed_at = time.monotonic()

    # Delivered again: recognised and stored, then killed before the notes heard of it.
    assert second.wait_until_paused() == asr_job
    assert time.monotonic() - killed_at < REDELIVERED_WITHIN_S + 5  # + loading Whisper
    [stored] = Segment.objects.filter(meeting=meeting)
    assert queued_tasks(broker, "llm") == []
    second.kill()

    # Delivered a third time: the text is not recognised or stored again; the notes are told.
    third = start_worker("c", "asr")
    until(lambda: asr_job in third.succeeded(), 30, second, third)
    [row] = Segment.objects.filter(meeting=meeting)
    assert (row.pk, row.text, row.final) == (stored.pk, stored.text, True)
    assert word_error_rate(said.text, row.text) <= MAX_WER, row.text
    captions = LiveEvent.objects.filter(meeting=meeting, type=events.SEGMENT)
    assert [e.payload["id"] for e in captions] == [row.pk], "one caption, never doubled"
    assert queued_tasks(broker, "llm") == [("llm.final_notes", [meeting.pk])]
    assert broker.get(job.audio_key) is None, "the audio was dropped once recorded"
    assert first.received() == second.received() == third.received() == [asr_job]


def queued_tasks(client: redis.Redis, queue: str) -> list[tuple[str, list[Any]]]:
    """(task name, args) of each job waiting in a queue (kombu keeps a Redis list per queue)."""
    messages = [json.loads(raw) for raw in client.lrange(queue, 0, -1)]
    return [(m["headers"]["task"], json.loads(base64.b64decode(m["body"]))[0]) for m in messages]
