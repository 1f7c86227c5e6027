"""Stable words of a running utterance, never taken back: LocalAgreement-n (the words consecutive
hypotheses agree on) and the attention policy (the words aligned well before the audio's edge)."""

from __future__ import annotations

import itertools

import pytest

from assistant.transcription.stability import Agreement, agreed_prefix, settled_prefix, words_of


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


def settled(ends_before_edge_s: list[float]) -> int:
    return settled_prefix(ends_before_edge_s, margin_s=0.3)


def test_the_attention_policy_holds_the_words_ended_well_before_the_edge() -> None:
    assert settled([2.1, 1.4, 0.8, 0.31, 0.29, 0.05]) == 4
    assert settled([0.2, 1.0]) == 0, "a word after one still at the edge waits for it"
    assert settled([]) == 0


def test_settled_words_are_committed_from_one_hypothesis_and_only_grow() -> None:
    state = Agreement().heard(words_of("the release is on"), settled=2)
    assert (state.text, state.hypotheses) == ("the release", (("the", "release", "is", "on"),))
    state = state.heard(words_of("the release is on Thursday"), settled=1)
    assert state.text == "the release", "fewer settled words take none back"
    state = state.heard(words_of("a release is on Thursday we"), settled=5)
    assert state.text == "the release is on Thursday", "read after the committed words"
