"""Our recogniser's versions of an utterance: one row, replaced in place, never doubled."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
from django.test import override_settings

from assistant.models import LiveEvent, Meeting, TranscriptSegment
from assistant.services import speech
from assistant.services.transcript import Recognised, record_recognition
from assistant.speech_audio import FINAL_REVISION, audio_store

pytestmark = pytest.mark.django_db

MakeMeeting = Callable[..., Meeting]

DRAFT = Recognised(
    speaker_user_id=7,
    speaker_name="Zoë Müller",
    utterance_start_ms=8000,
    start_ms=8000,
    end_ms=11000,
    text="The new checkout",
    language="en",
    revision=0,
    final=False,
)
FINAL = replace(
    DRAFT,
    end_ms=15000,
    text="The new checkout page is in review.",
    revision=FINAL_REVISION,
    final=True,
)


def segment_events(meeting: Meeting) -> list[dict[str, object]]:
    rows = LiveEvent.objects.filter(meeting=meeting, type="segment").order_by("seq")
    return [row.payload for row in rows]


def test_a_final_replaces_its_draft_in_the_same_row_and_under_the_same_id(
    make_meeting: MakeMeeting,
) -> None:
    meeting = make_meeting()
    draft = record_recognition(meeting.pk, DRAFT)
    final = record_recognition(meeting.pk, FINAL)
    assert draft is not None and final is not None and draft.pk == final.pk
    [row] = TranscriptSegment.objects.filter(meeting=meeting)
    assert (row.text, row.final, row.source, row.end_ms) == (FINAL.text, True, "asr", 15000)
    events = segment_events(meeting)
    assert [(e["id"], e["final"], e["text"]) for e in events] == [
        (row.pk, False, DRAFT.text),
        (row.pk, True, FINAL.text),
    ]
    assert row.seq == events[-1]["seq"], "the row carries its latest event's number"


def test_a_redelivered_final_or_a_late_draft_changes_nothing(make_meeting: MakeMeeting) -> None:
    meeting = make_meeting()
    record_recognition(meeting.pk, FINAL)
    assert record_recognition(meeting.pk, FINAL) is None
    assert record_recognition(meeting.pk, replace(DRAFT, revision=5)) is None
    assert TranscriptSegment.objects.get(meeting=meeting).text == FINAL.text
    assert len(segment_events(meeting)) == 1


def test_an_older_draft_never_replaces_a_newer_one(make_meeting: MakeMeeting) -> None:
    meeting = make_meeting()
    record_recognition(meeting.pk, replace(DRAFT, revision=2, text="newer words"))
    assert record_recognition(meeting.pk, replace(DRAFT, revision=1)) is None
    assert TranscriptSegment.objects.get(meeting=meeting).text == "newer words"


def test_a_final_with_no_speech_withdraws_the_draft(make_meeting: MakeMeeting) -> None:
    meeting = make_meeting()
    draft = record_recognition(meeting.pk, DRAFT)
    assert record_recognition(meeting.pk, replace(FINAL, text="  ")) is None
    assert not TranscriptSegment.objects.filter(meeting=meeting).exists()
    last = segment_events(meeting)[-1]
    assert draft is not None and (last["id"], last["text"], last["final"]) == (draft.pk, "", True)


def test_zoom_and_our_tracks_of_the_same_words_are_kept_apart(make_meeting: MakeMeeting) -> None:
    from assistant.services.transcript import SegmentInput, record_segment

    meeting = make_meeting()
    record_segment(meeting.pk, SegmentInput("native", 7, "Zoë Müller", 8000, 15000, FINAL.text))
    record_recognition(meeting.pk, FINAL)
    sources = sorted(
        TranscriptSegment.objects.filter(meeting=meeting).values_list("source", flat=True)
    )
    assert sources == ["asr", "native"]


def job(meeting: Meeting, revision: int, *, final: bool = False) -> speech.UtteranceJob:
    return speech.UtteranceJob(meeting.pk, 7, "Zoë", 8000, 8000, 11000, revision, final)


@override_settings(JOBS_IN_PROCESS=True)
def test_a_draft_overtaken_by_a_later_cut_is_skipped_without_recognising(
    make_meeting: MakeMeeting,
) -> None:
    meeting = make_meeting()
    store = audio_store()
    old, new = job(meeting, 0), job(meeting, 1)
    store.put(old.audio_key, b"\x00\x00" * 16000, old.utterance_key, old.rank)
    store.put(new.audio_key, b"\x00\x00" * 16000, new.utterance_key, new.rank)
    speech.transcribe_utterance(old)  # would need the model if it went on: it must not
    assert not TranscriptSegment.objects.filter(meeting=meeting).exists()
    assert store.get(old.audio_key) is not None


@override_settings(JOBS_IN_PROCESS=True)
def test_a_job_whose_audio_expired_records_nothing(
    make_meeting: MakeMeeting, caplog: pytest.LogCaptureFixture
) -> None:
    meeting = make_meeting()
    speech.transcribe_utterance(job(meeting, 3, final=True))
    assert not TranscriptSegment.objects.filter(meeting=meeting).exists()
    assert "audio expired" in caplog.text


@pytest.mark.parametrize(
    ("setting", "own", "native", "ours"),
    [
        ("native", "", True, False),
        ("asr", "", False, True),
        ("both", "", True, True),
        ("native", "asr", False, True),
        ("both", "native", True, False),
    ],
)
def test_a_meeting_choice_overrides_the_setting(
    make_meeting: MakeMeeting, setting: str, own: str, native: bool, ours: bool
) -> None:
    meeting = make_meeting(transcription=own)
    with override_settings(TRANSCRIPTION=setting):
        assert (speech.wants_native(meeting), speech.wants_asr(meeting)) == (native, ours)


def test_a_job_from_a_newer_ingest_runs_with_the_fields_this_worker_knows() -> None:
    sent: dict[str, Any] = {
        "meeting_id": 3,
        "speaker_user_id": 7,
        "speaker_name": "Zoë Müller",
        "utterance_start_ms": 8000,
        "start_ms": 8000,
        "end_ms": 11000,
        "revision": 0,
        "final": False,
        "heard_at": 1_800_000_000.5,
        "added_by_a_later_version": {"x": 1},
    }

    job = speech.UtteranceJob.from_task(sent)

    assert job == speech.UtteranceJob(3, 7, "Zoë Müller", 8000, 8000, 11000, 0, False, 1.8e9 + 0.5)
    # A job from an ingest before `heard_at` still runs, without the latency figure.
    older = {k: v for k, v in sent.items() if k not in ("heard_at", "added_by_a_later_version")}
    assert speech.UtteranceJob.from_task(older).heard_at is None
