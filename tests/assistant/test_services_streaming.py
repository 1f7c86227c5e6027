"""Early decodes on the real worker path (bundled tiny.en, the sample audio, in-process store).

A running utterance's provisional caption grows word by word and never takes a word back; its
final replaces it in place; under a lagging queue early decodes are skipped first, then every
provisional cut, never the final; a late final says captions are behind.
"""

from __future__ import annotations

import itertools
import json
import time
import wave
from collections.abc import Callable
from pathlib import Path

import pytest
from django.test import override_settings
from pytest_django.fixtures import Settings

from assistant import events
from assistant.models import LiveEvent, Meeting, TranscriptSegment
from assistant.services import speech, streaming
from assistant.speech_audio import AudioStore, InProcessAudioStore, RedisAudioStore, audio_store
from assistant.transcription.wer import word_error_rate

pytestmark = [pytest.mark.django_db, pytest.mark.timeout(300)]

MakeMeeting = Callable[..., Meeting]
SAMPLE = Path(__file__).resolve().parents[2] / "rtms_ingest/simulator/sample_meetings/weekly_sync"
RATE = 16000
BYTES_PER_MS = RATE * 2 // 1000


def first_sentence() -> tuple[str, bytes, int]:
    """The sample's first utterance (7 s): its text, its audio, its start on the stream clock."""
    said = json.loads((SAMPLE / "meeting.json").read_text())["utterances"][0]
    with wave.open(str(SAMPLE / "audio" / f"{said['user_id']}.wav")) as wav:
        track = wav.readframes(wav.getnframes())
    start, end = int(said["start_s"] * 1000), int(said["end_s"] * 1000)
    return said["text"], track[start * BYTES_PER_MS : end * BYTES_PER_MS], start


def hand_over(meeting: Meeting, pcm: bytes, start_ms: int, end_ms: int, revision: int, *,
              final: bool = False, late_s: float = 0.0) -> speech.UtteranceJob:  # fmt: skip
    """A cut of the utterance so far, kept in the store as the ingest keeps it; its job."""
    job = speech.UtteranceJob(
        meeting.pk, 7, "Ana Lima", start_ms, start_ms, end_ms, revision, final,
        heard_at=time.time() - late_s,
    )  # fmt: skip
    audio_store().put(job.audio_key, pcm[: (end_ms - start_ms) * BYTES_PER_MS],
                      job.utterance_key, job.rank)  # fmt: skip
    return job


def segment_events(meeting: Meeting) -> list[dict[str, object]]:
    rows = LiveEvent.objects.filter(meeting=meeting, type=events.SEGMENT).order_by("seq")
    return [row.payload for row in rows]


def stable_words(event: dict[str, object]) -> list[str]:
    words = str(event["text"]).split()
    tentative = int(str(event["tentative_words"]))
    return words[: len(words) - tentative]


@pytest.mark.parametrize("policy", ["attention", "agreement"])
def test_a_provisional_caption_grows_word_by_word_and_its_final_replaces_it(
    make_meeting: MakeMeeting, settings: Settings, policy: str
) -> None:
    settings.JOBS_IN_PROCESS, settings.ASR_PROVISIONAL_POLICY = True, policy
    meeting = make_meeting()
    text, pcm, start = first_sentence()
    end = start + len(pcm) // BYTES_PER_MS
    for revision, cut_end in enumerate(range(start + 1000, end, 1000)):
        speech.transcribe_utterance(hand_over(meeting, pcm, start, cut_end, revision))
    speech.transcribe_utterance(hand_over(meeting, pcm, start, end, 99, final=True))

    shown = segment_events(meeting)
    drafts, final = shown[:-1], shown[-1]
    assert len(drafts) >= 3, "a 7 s sentence is captioned while it is spoken, several times"
    committed = [stable_words(e) for e in drafts]
    for before, after in itertools.pairwise(committed):
        assert after[: len(before)] == before, "a committed word is never taken back"
    assert len(committed[-1]) >= 5, committed
    assert word_error_rate(text, " ".join(committed[-1])) <= 0.5
    assert {e["id"] for e in shown} == {final["id"]}, "one caption, replaced in place"
    assert final["final"] is True and final["tentative_words"] == 0
    [row] = TranscriptSegment.objects.filter(meeting=meeting)
    assert (row.final, row.text) == (True, final["text"])
    assert word_error_rate(text, row.text) <= 0.25
    assert (
        audio_store().get(f"{hand_over(meeting, pcm, start, end, 0).utterance_key}:agreement")
        is None
    )


@pytest.mark.parametrize("policy", ["attention", "agreement"])
def test_only_the_attention_policy_shows_stable_words_after_one_decode(
    make_meeting: MakeMeeting, settings: Settings, policy: str
) -> None:
    settings.JOBS_IN_PROCESS, settings.ASR_PROVISIONAL_POLICY = True, policy
    settings.ASR_STABLE_MARGIN_MS = 300
    meeting = make_meeting()
    text, pcm, start = first_sentence()
    speech.transcribe_utterance(hand_over(meeting, pcm, start, start + 3000, 0))
    [draft] = segment_events(meeting)
    stable = stable_words(draft)
    if policy == "agreement":
        assert stable == [], "LocalAgreement needs a second decode to agree"
        return
    # Three seconds into the sentence: its words up to about 0.3 s before the cut are stable,
    # the one being spoken is not.
    said = str(draft["text"]).split()
    assert 3 <= len(stable) < len(said), draft
    assert word_error_rate(" ".join(text.split()[: len(stable)]), " ".join(stable)) <= 0.34


@override_settings(
    JOBS_IN_PROCESS=True,
    ASR_PROVISIONAL_EVERY_MS=1000,
    ASR_EARLY_DECODE_MAX_LAG_MS=800,
    ASR_PROVISIONAL_MAX_LAG_MS=2000,
    ASR_BEHIND_MS=2500,
)
def test_under_a_lagging_queue_early_decodes_go_first_then_drafts_never_finals(
    make_meeting: MakeMeeting,
) -> None:
    meeting = make_meeting()
    _, pcm, start = first_sentence()
    end = start + len(pcm) // BYTES_PER_MS
    # 1.2 s late: revisions 0 and 1 are early decodes (off the 3 s cadence), 2 is not.
    early = [hand_over(meeting, pcm, start, start + 1000 * (r + 1), r, late_s=1.2) for r in (0, 1)]
    for job in early:
        speech.transcribe_utterance(job)
    assert not segment_events(meeting), "early decodes skipped under load"
    speech.transcribe_utterance(hand_over(meeting, pcm, start, start + 3000, 2, late_s=1.2))
    assert len(segment_events(meeting)) == 1, "a cut on the previous cadence still decoded"
    # 3 s late: every provisional cut is skipped; the final is not, and it says captions lag.
    speech.transcribe_utterance(hand_over(meeting, pcm, start, start + 6000, 5, late_s=3.0))
    assert len(segment_events(meeting)) == 1
    speech.transcribe_utterance(hand_over(meeting, pcm, start, end, 99, final=True, late_s=3.0))
    shown = segment_events(meeting)
    assert shown[-1]["final"] is True and shown[-1]["text"]
    [behind] = LiveEvent.objects.filter(meeting=meeting, type=events.CAPTIONS)
    assert behind.payload["behind"] is True and behind.payload["lag_ms"] >= 3000


@override_settings(JOBS_IN_PROCESS=True, ASR_BEHIND_MS=2500)
def test_captions_behind_is_said_once_and_cleared_when_finals_catch_up(
    make_meeting: MakeMeeting,
) -> None:
    meeting = make_meeting()
    store = audio_store()
    for late_s in (3.0, 4.0, 1.5, 0.5, 0.4):
        job = speech.UtteranceJob(meeting.pk, 7, "Ana", 0, 0, 1000, 0, True, time.time() - late_s)
        streaming.final_stored(store, job)
    said = LiveEvent.objects.filter(meeting=meeting, type=events.CAPTIONS).order_by("seq")
    assert [e.payload["behind"] for e in said] == [True, False]


@pytest.mark.parametrize("shape", ["redis", "in-process"])
def test_a_drafts_state_is_only_written_over_the_state_it_was_computed_from(shape: str) -> None:
    """Two workers on cuts of one utterance: the slower one's write fails and it reads again."""
    from django.conf import settings as django_settings

    store: AudioStore = (
        RedisAudioStore(django_settings.REDIS_URL, 60)
        if shape == "redis"
        else InProcessAudioStore(60)
    )
    key = f"asr:test:swap:{time.time_ns()}"
    assert store.swap(key, None, b"rev 0", 60), "nothing there yet"
    assert not store.swap(key, None, b"rev 1 (stale)", 60)
    assert store.swap(key, b"rev 0", b"rev 1", 60)
    assert not store.swap(key, b"rev 0", b"rev 2 (from rev 0)", 60)
    assert store.get(key) == b"rev 1"
    store.delete(key)
