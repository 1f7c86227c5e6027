"""How `make eval-notes` scores notes: matches, owners and dates, echoes, summary support."""

from __future__ import annotations

from datetime import date

from assistant.services.notes.draft import NotesDraft, Utterance
from benchmarks import notes_eval
from benchmarks.notes_scoring import Expected, Predicted, score_items, score_summary

WEDNESDAY = date(2026, 11, 4)
SEND = Expected(("contractor", "request"), frozenset({7, 8}), "Marcus Lee", frozenset({WEDNESDAY}))
CALENDAR = Expected(("calendar",), frozenset({9, 10}), "Zoë Martin", frozenset({None}))


def test_an_item_counts_when_its_words_owner_and_due_date_agree() -> None:
    predicted = [
        Predicted(
            "Send the contractor requests to procurement", frozenset({7}), "Marcus", WEDNESDAY
        ),
        Predicted("Update the on-call calendar", frozenset({9}), "Zoe"),
    ]

    tally = score_items(predicted, [SEND, CALENDAR], full=True)

    assert (tally.true_positives, tally.false_positives, tally.false_negatives) == (2, 0, 0)


def test_a_wrong_owner_or_date_is_a_miss_only_when_owner_and_date_count() -> None:
    predicted = [Predicted("Send the contractor request", frozenset({7}), "Priya", WEDNESDAY)]

    full = score_items(predicted, [SEND], full=True)
    text_only = score_items(predicted, [SEND], full=False)

    assert (full.true_positives, full.false_positives, full.false_negatives) == (0, 1, 1)
    assert (text_only.true_positives, text_only.false_negatives) == (1, 0)
    assert full.echoes == 0


def test_the_owners_answer_listed_again_is_an_echo() -> None:
    predicted = [
        Predicted("Send the contractor request", frozenset({7}), "Marcus", WEDNESDAY),
        Predicted("Send it", frozenset({8}), "Marcus", WEDNESDAY),
        Predicted("Book the venue", frozenset({3}), "Marcus"),
    ]

    tally = score_items(predicted, [SEND], full=True)

    assert tally.true_positives == 1
    assert tally.false_positives == 2
    assert tally.echoes == 1
    assert tally.figures()["echo_rate"] == round(1 / 3, 3)


def test_of_two_candidates_the_one_whose_owner_agrees_is_matched() -> None:
    other = Expected(("contractor",), frozenset({2}), "Zoë Martin", frozenset({None}))
    predicted = [Predicted("Chase the contractor request", frozenset({7}), "Zoë")]

    tally = score_items(predicted, [SEND, other], full=True)

    assert tally.true_positives == 1
    assert tally.missed == ["contractor+request (Marcus Lee, 2026-11-04)"]


def test_a_summary_sentence_is_supported_only_by_what_was_said() -> None:
    said = [Utterance(1, 1, "Priya Raman", 0, 1, "We hire two contractors for December.")]
    notes = NotesDraft(summary="Priya: We hire two contractors. The budget doubles next year.")

    tally = score_summary(notes, said, [SEND])

    assert (tally.sentences, tally.supported) == (2, 1)
    assert tally.covered == 0


def test_every_annotated_meeting_loads_with_items_pointing_at_its_utterances() -> None:
    meetings = notes_eval.meetings()

    assert len(meetings) >= 10
    for meeting in meetings:
        ids = {u.segment_id for u in meeting.utterances}
        for item in [*meeting.decisions, *meeting.action_items, *meeting.open_questions]:
            assert item.said_in and item.said_in <= ids, meeting.name
