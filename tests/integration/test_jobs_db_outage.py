"""Jobs through a PostgreSQL restart: a Celery worker retries them and nothing is lost or doubled.

A real worker (`-Q asr,llm`, Redis DB 11) and the real test database, which refuses connections
and has every open one cut (tests/postgres_outage.py) while the jobs are handed over: the `asr`
job of one spoken sentence (the bundled tiny.en model) and an `llm` notes update (the extract).
"""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
import time
import wave
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from channels.db import database_sync_to_async
from django.conf import settings
from pytest_django.fixtures import Settings

from assistant import jobs
from assistant.models import Meeting, MeetingNotes, TranscriptSegment
from assistant.services import speech
from assistant.services.transcript import SegmentInput, record_segment
from assistant.transcription.wer import word_error_rate
from rtms_ingest.simulator.fixture import RecordedMeeting, sample_meeting
from tests.integration.asr_fixtures import ASR_REDIS_URL
from tests.integration.stack import ROOT, stack_env
from tests.integration.test_asr import MAX_WER
from tests.postgres_outage import DatabaseOutage

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(120)]

# Long enough for both jobs to meet it even on a loaded CI machine (each logs its retry).
OUTAGE_S = 12.0


@pytest.fixture
def worker(
    transactional_db: None, asr_broker: None, tmp_path: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """One Celery worker on the asr and llm queues, on the test database; its log in tmp_path."""
    db = settings.DATABASES["default"]
    database_url = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    celery = Path(sys.executable).parent / "celery"
    argv = [str(celery), "-A", "assistant", "worker", "-Q", "asr,llm", "--concurrency", "1"]
    argv += ["--without-mingle", "--without-gossip", "--loglevel", "INFO"]
    redis.Redis.from_url(ASR_REDIS_URL).flushdb()  # no other test's jobs
    log_path = tmp_path / "worker.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            argv,
            cwd=ROOT,
            env=stack_env(database_url, ASR_REDIS_URL) | {"LOG_LEVEL": "INFO"},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        yield process
    finally:
        process.terminate()
        process.wait(timeout=30)


def sentence(
    recording: RecordedMeeting, index: int, meeting_id: int
) -> tuple[speech.UtteranceJob, bytes, str]:
    """The asr job of one utterance of the recording, its 16 kHz mono audio, what was said."""
    said = recording.utterances[index]
    with wave.open(str(recording.audio_files[said.user_id])) as track:
        track.setpos(int(said.start_s * track.getframerate()))
        pcm = track.readframes(int((said.end_s - said.start_s) * track.getframerate()))
    start_ms, end_ms = round(said.start_s * 1000), round(said.end_s * 1000)
    name = recording.user_name(said.user_id)
    job = speech.UtteranceJob(
        meeting_id, said.user_id, name, start_ms, start_ms, end_ms, 0, final=True
    )
    return job, pcm, said.text


def meeting_with_transcript(recording: RecordedMeeting) -> Meeting:
    """A meeting with Zoom's transcript of its first minute stored, and notes not yet made."""
    meeting = Meeting.objects.create(zoom_id="outage==", rtms_stream_id="stream-outage")
    for u in recording.utterances[:10]:
        start, end = round(u.start_s * 1000), round(u.end_s * 1000)
        name = recording.user_name(u.user_id)
        record_segment(meeting.pk, SegmentInput("native", u.user_id, name, start, end, u.text))
    MeetingNotes.objects.get_or_create(meeting=meeting)
    return meeting


@database_sync_to_async
def outcome(meeting_id: int) -> tuple[list[tuple[str, bool]], int]:
    asr = TranscriptSegment.objects.filter(meeting_id=meeting_id, source="asr")
    notes = MeetingNotes.objects.get(meeting_id=meeting_id)
    return list(asr.values_list("text", "final")), notes.version


RETRIED = re.compile(r"Task (asr\.transcribe_utterance|llm\.update_notes)\[[^]]+\] retry")


async def test_asr_and_notes_jobs_that_meet_a_database_restart_are_retried_and_done_once(
    worker: subprocess.Popen[bytes],
    database_outage: DatabaseOutage,
    settings: Settings,
    tmp_path: Path,
) -> None:
    settings.NOTES_EXTRACT_UPDATE_SEGMENTS = 1000  # this process queues no update by itself
    recording = sample_meeting()
    meeting = await database_sync_to_async(meeting_with_transcript)(recording)
    job, pcm, said = sentence(recording, 1, meeting.pk)
    log = tmp_path / "worker.log"
    async with asyncio.timeout(30):
        while "ready." not in log.read_text():
            await asyncio.sleep(0.1)

    await database_outage.abegin()
    await asyncio.to_thread(speech.hand_over_utterance, job, pcm)  # audio store and broker only
    jobs.submit(jobs.UPDATE_NOTES, meeting.pk)
    async with asyncio.timeout(OUTAGE_S):
        while len(set(RETRIED.findall(log.read_text()))) < 2:
            await asyncio.sleep(0.1)
    assert database_outage.began_at is not None
    await asyncio.sleep(OUTAGE_S - (time.monotonic() - database_outage.began_at))
    await database_outage.aend()

    async with asyncio.timeout(60):
        while not (found := await outcome(meeting.pk))[0] or found[1] < 1:
            await asyncio.sleep(0.2)
    await asyncio.sleep(1.0)  # a doubled run would have landed by now
    captions, version = await outcome(meeting.pk)
    assert len(captions) == 1 and captions[0][1], captions
    assert word_error_rate(said, captions[0][0]) <= MAX_WER, captions[0][0]
    assert version >= 1
    assert "raised unexpected" not in log.read_text()
