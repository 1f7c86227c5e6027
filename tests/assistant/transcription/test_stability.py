"""LocalAgreement-n: only words that consecutive hypotheses agree on are shown, never taken back."""

from __future__ import annotations

import itertools

import pytest

from assistant.transcription.stability import Agreement, agreed_prefix, words_of


def heard_all(*texts: str, n: int = 2) -> Agreement:
    state = Agreement()
    for text in texts:
        state = state.heard(words_of(text), n)
    return state


def test_a_single_hypothesis_commits_nothing() -> None:
    assert heard_all("good morning every").committed == ()


def test_two_hypotheses_commit_their_common_prefix() -> None:
    state = heard_all("good morning every", "good morning everyone let's")
    assert state.text == "good morning"


def test_case_and_punctuation_do_not_break_agreement() -> None:
    state = heard_all("Good morning, every", "good morning everyone.")
    assert state.committed == ("good", "morning")


def test_committed_words_only_grow() -> None:
    hypotheses = [
        "the release",
        "the release is on",
        "the release is on Thursday",
        "a release is on Thursday we",  # contradicts a committed word
        "the release is on Thursday we ship",
        "the release is on Thursday we ship it",
    ]
    state, shown = Agreement(), []
    for text in hypotheses:
        state = state.heard(words_of(text))
        shown.append(state.committed)
    for before, after in itertools.pairwise(shown):
        assert after[: len(before)] == before
    assert state.text == "the release is on Thursday we ship"


def test_a_hypothesis_that_contradicts_the_committed_words_is_compared_after_them() -> None:
    state = heard_all("we ship", "we ship on", "they ship on Friday", "we ship on Friday now")
    assert state.text == "we ship on Friday"


def test_local_agreement_3_needs_three_hypotheses() -> None:
    assert heard_all("one two", "one two three", n=3).committed == ()
    assert heard_all("one two", "one two three", "one two three four", n=3).text == "one two"


def test_local_agreement_1_commits_every_hypothesis() -> None:
    assert heard_all("one two", n=1).text == "one two"


def test_n_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="n >= 1"):
        Agreement().heard(["a"], 0)


def test_agreed_prefix_of_nothing_is_zero() -> None:
    assert agreed_prefix() == 0
    assert agreed_prefix(["a"], []) == 0
