"""Hallucination guards: pure functions over the text and the audio's numbers."""

from __future__ import annotations

import math

import numpy as np

from assistant.transcription import guards

SPOKEN = {
    "audio_s": 1.2,
    "speech_s": 0.8,
    "dbfs": -20.0,
    "no_speech_prob": 0.05,
    "avg_logprob": -0.3,
}


def test_a_short_answer_with_energy_is_kept() -> None:
    assert guards.rejection("Yes.", **SPOKEN) == ""
    assert guards.rejection("Thank you.", **SPOKEN) == ""


def test_a_known_phrase_on_quiet_audio_is_rejected() -> None:
    quiet = SPOKEN | {"dbfs": -48.0}
    assert guards.rejection("Thank you.", **quiet) == "known hallucination"
    assert guards.rejection("Thanks for watching!", **quiet) == "known hallucination"
    assert guards.rejection("you", **quiet) == "known hallucination"


def test_a_known_phrase_with_almost_no_speech_is_rejected() -> None:
    blip = SPOKEN | {"speech_s": 0.1}
    assert guards.rejection("Bye.", **blip) == "known hallucination"
    assert guards.rejection("Subtitles by the Amara.org community", **blip) == "known hallucination"


def test_a_real_sentence_on_quiet_audio_is_kept() -> None:
    quiet = SPOKEN | {"dbfs": -48.0, "audio_s": 3.0}
    assert guards.rejection("Ship on Thursday.", **quiet) == ""


def test_sound_tags_are_rejected_whatever_the_energy() -> None:
    assert guards.rejection("[Music]", **SPOKEN) == "sound, not speech"
    assert guards.rejection("(upbeat music)", **SPOKEN) == "sound, not speech"
    assert guards.rejection("♪ ♪", **SPOKEN) == "sound, not speech"


def test_a_repeated_trigram_is_rejected() -> None:
    text = "anything from support anything from support anything from support"
    assert guards.rejection(text, **(SPOKEN | {"audio_s": 9.0})) == "repeated n-gram"


def test_one_word_four_times_in_a_row_is_rejected() -> None:
    assert guards.has_repeated_ngram("the the the the payment")
    assert not guards.has_repeated_ngram("no no no, ship it")


def test_more_words_than_the_audio_can_hold_is_rejected() -> None:
    text = "one two three four five six seven eight nine ten eleven twelve"
    assert guards.rejection(text, **(SPOKEN | {"audio_s": 1.0})) == "too many words for the audio"
    assert guards.rejection(text, **(SPOKEN | {"audio_s": 4.0})) == ""


def test_whispers_no_speech_rule_needs_both_numbers() -> None:
    assert guards.is_no_speech(0.9, -1.5)
    assert not guards.is_no_speech(0.9, -0.2)  # confident text survives a high no-speech prob
    assert not guards.is_no_speech(0.2, -1.5)
    assert (
        guards.rejection("Hello there.", **(SPOKEN | {"no_speech_prob": 0.9, "avg_logprob": -1.5}))
        == "no speech"
    )


def test_empty_text_is_no_speech() -> None:
    assert guards.rejection("", **SPOKEN) == "no speech"


def test_clean_text_strips_and_collapses_whitespace() -> None:
    assert guards.clean_text("  Ship  on\n Thursday. ") == "Ship on Thursday."


def test_energy_of_digital_silence_is_minus_infinity_and_of_full_scale_zero() -> None:
    assert guards.energy_dbfs(np.zeros(1600, dtype=np.float32)) == -math.inf
    square = np.ones(1600, dtype=np.float32)
    assert guards.energy_dbfs(square) == 0.0
    assert guards.is_silent(guards.energy_dbfs(square * 0.001))  # -60 dBFS
    assert not guards.is_silent(guards.energy_dbfs(square * 0.05))  # -26 dBFS
