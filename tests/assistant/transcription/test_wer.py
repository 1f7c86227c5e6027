"""Word error rate: normalised words, Levenshtein distance, over the reference length."""

from __future__ import annotations

import pytest

from assistant.transcription.wer import normalise, word_error_rate, word_errors


def test_identical_text_scores_zero() -> None:
    assert word_error_rate("Ship on Thursday.", "Ship on Thursday.") == 0.0


def test_case_and_punctuation_are_not_errors() -> None:
    assert word_error_rate("Okay, the main decision.", "okay the main decision") == 0.0


def test_numbers_in_digits_match_numbers_in_words() -> None:
    reference = "Failed payments dropped from four percent to under one percent."
    assert word_error_rate(reference, "Failed payments dropped from 4% to under 1%.") == 0.0
    assert word_error_rate("We ship two point four", "We ship 2.4") == 0.0
    assert word_error_rate("the fourteenth of March", "the 14th of March") == 0.0
    assert word_error_rate("PR four hundred eighty two", "PR 482") == 0.0


def test_accents_and_apostrophes_are_not_errors() -> None:
    assert word_error_rate("Thanks, Björn. I'm late.", "thanks bjorn im late") == 0.0


def test_substitution_deletion_and_insertion_each_count_once() -> None:
    assert word_errors("a b c d", "a x c d") == (1, 4)
    assert word_errors("a b c d", "a c d") == (1, 4)
    assert word_errors("a b c d", "a b c d e") == (1, 4)


def test_rate_is_errors_over_reference_words() -> None:
    assert word_error_rate("one two three four", "one too three") == pytest.approx(0.5)


def test_empty_reference_scores_zero_for_silence_and_one_for_any_words() -> None:
    assert word_error_rate("", "") == 0.0
    assert word_error_rate("", "Thank you.") == 1.0


def test_normalise_splits_hyphens_and_drops_acronym_dots() -> None:
    assert normalise("screen-reader Q.A. OK") == ["screen", "reader", "qa", "okay"]
