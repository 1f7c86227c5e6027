"""The caption latency, served by the process that records captions (a Celery worker's child)."""

from __future__ import annotations

import time
import wave
from collections.abc import Callable

import pytest
from django.test import override_settings

from assistant.celery import metrics_of_pool_child
from assistant.models import Meeting
from assistant.services import speech
from assistant.speech_audio import audio_store
from rtms_ingest.simulator.fixture import sample_meeting
from tests.integration.stack import free_port
from tests.metrics_support import figure, scrape

pytestmark = pytest.mark.django_db

MakeMeeting = Callable[..., Meeting]
FINAL_COUNT = ("assistant_caption_latency_seconds_count", {"kind": "final"})


def first_sentence() -> tuple[int, str, int, int, bytes]:
    """The sample meeting's first utterance: speaker, name, start and end (ms), 16 kHz PCM."""
    meeting = sample_meeting()
    said = meeting.utterances[0]
    with wave.open(str(meeting.audio_files[said.user_id])) as track:
        track.setpos(int(said.start_s * track.getframerate()))
        pcm = track.readframes(int((said.end_s - said.start_s) * track.getframerate()))
    start, end = round(said.start_s * 1000), round(said.end_s * 1000)
    return said.user_id, meeting.user_name(said.user_id), start, end, pcm


def test_worker_metrics_are_off_without_a_port() -> None:
    assert metrics_of_pool_child() is None


def test_a_stored_caption_adds_its_latency_on_the_workers_metrics_port(
    make_meeting: MakeMeeting,
) -> None:
    port = free_port()
    with override_settings(WORKER_METRICS_PORT=port):
        server = metrics_of_pool_child()  # what a prefork child of the worker runs first
    assert server is not None and server.server_port == port
    try:
        before = scrape(port)
        user_id, name, start, end, pcm = first_sentence()
        job = speech.UtteranceJob(
            make_meeting().pk, user_id, name, start, start, end, 0, True, heard_at=time.time() - 1
        )
        audio_store().put(job.audio_key, pcm, job.utterance_key, job.rank)
        speech.transcribe_utterance(job)
        after = scrape(port)
    finally:
        server.shutdown()
    name_, labels = FINAL_COUNT
    assert figure(after, name_, **labels) - figure(before, name_, **labels) == 1
    total = "assistant_caption_latency_seconds_sum"
    # At least the second that passed before the job, and no more than recognising took.
    assert 1.0 <= figure(after, total, kind="final") - figure(before, total, kind="final") < 60
