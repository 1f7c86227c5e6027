"""A final heard after the same speaker's earlier speech: fewer errors, only the new words."""

from __future__ import annotations

import itertools

import pytest
from django.test import override_settings

from assistant.models import Meeting, TranscriptSegment
from assistant.services import speech
from assistant.services.speech import SpeakerContext
from assistant.speech_audio import audio_store
from assistant.transcription import ContextPiece, recognise
from assistant.transcription.wer import normalise, word_error_rate
from tests.assistant.transcription.test_engine import _track, _utterances

SPEAKER = 16779264  # Zoë: four sentences in the sample meeting


def sentences() -> list[tuple[bytes, str, float, float]]:
    track = _track(SPEAKER)
    return [
        (
            track[int(u["start_s"] * 16000) * 2 : int(u["end_s"] * 16000) * 2],
            u["text"],
            u["start_s"],
            u["end_s"],
        )
        for u in _utterances()
        if u["user_id"] == SPEAKER
    ]


def test_context_lowers_the_error_rate_and_only_new_words_come_back() -> None:
    said = sentences()
    alone, heard = [], []
    context: list[ContextPiece] = []
    for pcm, _, _, _ in said:
        alone.append(recognise(pcm, final=True).text)
        result = recognise(pcm, final=True, context=context, context_s=28.0)
        heard.append(result.text)
        assert result.context_s == pytest.approx(sum(p.seconds + 0.3 for p in context), abs=0.01)
        context.append(ContextPiece(result.speech_pcm16, result.text))
    reference = " ".join(text for _, text, _, _ in said)
    with_context = word_error_rate(reference, " ".join(heard))
    assert with_context < word_error_rate(reference, " ".join(alone))
    # No sentence repeats the one before it (the context's words are not returned again).
    for before, after in itertools.pairwise(heard):
        assert normalise(before)[:4] != normalise(after)[:4], (before, after)


def test_a_final_a_context_cut_short_is_heard_again_on_its_own() -> None:
    # Whisper sometimes ends a continuation after a context early. Here the context's text
    # claims the sentence was said already, so the decoder says one word of it and ends.
    said = [u for u in _utterances() if u["user_id"] == 16781312]  # Tomás: four sentences
    track = _track(16781312)
    pcms = [track[int(u["start_s"] * 16000) * 2 : int(u["end_s"] * 16000) * 2] for u in said]
    target, text = pcms[2], said[2]["text"]  # "Will do. I'll also tell the two customers..."
    misleading = [ContextPiece(recognise(pcm, final=True).speech_pcm16, text) for pcm in pcms[:2]]
    result = recognise(target, final=True, context=misleading, context_s=28.0)
    assert len(result.text.split()) >= 8, result
    assert word_error_rate(text, result.text) <= 0.35, result.text
    assert result.context_s == 0.0, "the text kept is the one heard without the context"


def test_context_is_bounded_and_a_draft_hears_none() -> None:
    pcm, _, _, _ = sentences()[1]
    first = recognise(sentences()[0][0], final=True)
    piece = ContextPiece(first.speech_pcm16, first.text)
    assert recognise(pcm, final=True, context=[piece] * 5, context_s=10.0).context_s < 10.0
    assert recognise(pcm, final=False, context=[piece], context_s=28.0).context_s == 0.0
    assert recognise(pcm, final=True, context=[piece], context_s=0.0).context_s == 0.0


def test_a_speakers_context_round_trips_and_keeps_only_its_newest_seconds() -> None:
    one = ContextPiece(b"\x01\x00" * 16000 * 10, "ten seconds")
    two = ContextPiece(b"\x02\x00" * 16000 * 12, "twelve <seconds> \u00e9")
    context = SpeakerContext(0, ()).extended(one, 10_000, 28).extended(two, 25_000, 28)
    assert SpeakerContext.from_bytes(context.to_bytes()) == context
    three = ContextPiece(b"\x03\x00" * 16000 * 9, "nine")
    assert context.extended(three, 40_000, 28).pieces == (two, three)
    assert context.extended(three, 40_000, 28).end_ms == 40_000


@pytest.mark.django_db
@override_settings(JOBS_IN_PROCESS=True, ASR_CONTEXT_S=28.0)
def test_a_speakers_finals_carry_their_context_forward_but_never_from_the_future() -> None:
    meeting = Meeting.objects.create(zoom_id="ctx==", rtms_stream_id="ctx")
    store = audio_store()
    said = sentences()
    for n, (pcm, _, start_s, end_s) in enumerate(said[:2]):
        job = speech.UtteranceJob(
            meeting.pk,
            SPEAKER,
            "Zoë",
            int(start_s * 1000),
            int(start_s * 1000),
            int(end_s * 1000),
            0,
            True,
        )
        speech.hand_over_utterance(job, pcm)
        speech.transcribe_utterance(job)
        blob = store.get(job.speaker_key)
        assert blob is not None
        kept = SpeakerContext.from_bytes(blob)
        assert len(kept.pieces) == n + 1 and kept.end_ms == int(end_s * 1000)
    rows = list(TranscriptSegment.objects.filter(meeting=meeting).order_by("start_ms"))
    assert [r.speaker_user_id for r in rows] == [SPEAKER, SPEAKER]
    early = speech.UtteranceJob(meeting.pk, SPEAKER, "Zoë", 1000, 1000, 2000, 0, True)
    assert speech._context(store, early).pieces == (), "said later: not context for earlier"
