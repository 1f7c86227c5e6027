"""How right a meeting's notes are, against a human annotation: pure functions, no Django.

An annotated meeting (benchmarks/notes_meetings/*.json) lists what a careful note-taker
would write down: each decision and action item by a few `about` words that any wording of
it contains (matched as word prefixes, accents and case folded), the action item's owner and
due date, and `said_in`, the utterances where it was given, confirmed or repeated.

- A predicted item matches an expected one when it contains all its `about` words; among
  several, the one whose owner and due date also agree wins. Each expected item is matched
  once.
- An action item is right ("full") when its owner (first name) and due date agree too: the
  due date is `due` or one of `due_also` (a deadline said vaguely: "for next week").
- An echo is a predicted item that matches nothing new but repeats one already matched: it
  contains an already matched item's words, or it cites only the utterances where that item
  was given (the owner's "Yes, I will send it by Wednesday" listed as "Send it").
- A summary sentence is supported when one utterance, or one with the utterance it answers
  (the one before), holds at least SUPPORTED of its content words; the summary covers an
  expected decision or action item when it holds its words.
- A notes template's sections: the lines under a heading (a person's name for a stand-up) are
  matched like items to the lines expected under it; lines under a heading nobody expected
  are false positives; a section expected to need an AI model is right when it says so and
  holds no line.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from assistant.services.notes.draft import (
    DraftSection,
    NotesDraft,
    Utterance,
    content_words,
    fold,
)

SUPPORTED = 0.6
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_WORDS = re.compile(r"[^\W_]+")


@dataclass(frozen=True)
class Expected:
    """One annotated decision, action item or open question."""

    about: tuple[str, ...]
    said_in: frozenset[int]  # segment ids
    owner: str = ""
    dues: frozenset[date | None] = frozenset({None})


@dataclass(frozen=True)
class Predicted:
    """One item of the notes, as the scorer reads it."""

    text: str
    segment_ids: frozenset[int]
    owner: str = ""
    due: date | None = None


@dataclass
class Tally:
    """Counts for precision and recall; `echoes` are among the false positives."""

    true_positives: int = 0
    false_positives: int = 0
    false_negatives: int = 0
    echoes: int = 0
    missed: list[str] = field(default_factory=list)
    spurious: list[str] = field(default_factory=list)

    def add(self, other: Tally) -> None:
        """Fold another meeting's counts into these."""
        self.true_positives += other.true_positives
        self.false_positives += other.false_positives
        self.false_negatives += other.false_negatives
        self.echoes += other.echoes
        self.missed += other.missed
        self.spurious += other.spurious

    def figures(self) -> dict[str, Any]:
        """Precision, recall and the echo rate (per predicted item), with the raw counts."""
        predicted = self.true_positives + self.false_positives
        expected = self.true_positives + self.false_negatives
        return {
            "precision": _ratio(self.true_positives, predicted),
            "recall": _ratio(self.true_positives, expected),
            "echo_rate": _ratio(self.echoes, predicted, empty=0.0),
            "predicted": predicted,
            "expected": expected,
            "echoes": self.echoes,
        }


def _ratio(part: int, whole: int, *, empty: float = 1.0) -> float:
    """part / whole, rounded; `empty` when there is nothing to divide (nothing to get wrong)."""
    return round(part / whole, 3) if whole else empty


def mentions(text: str, about: Sequence[str]) -> bool:
    """Whether every `about` word begins a word of `text` (folded)."""
    words = _WORDS.findall(fold(text))
    return all(any(w.startswith(fold(a)) for w in words) for a in about)


def same_person(predicted: str, expected: str) -> bool:
    """Owners agree: the same first name (folded), or both nobody."""
    left, right = predicted.split(), expected.split()
    if not left or not right:
        return not left and not right
    return fold(left[0]) == fold(right[0])


def score_items(
    predicted: Sequence[Predicted], expected: Sequence[Expected], *, full: bool
) -> Tally:
    """Match predicted items to expected ones; `full` also requires owner and due date."""
    tally = Tally()
    pairs = []
    for i, item in enumerate(predicted):
        for j, want in enumerate(expected):
            if mentions(item.text, want.about):
                agree = same_person(item.owner, want.owner) + (item.due in want.dues)
                pairs.append((-agree, i, j))
    taken_pred: set[int] = set()
    taken_exp: dict[int, int] = {}
    for _, i, j in sorted(pairs):
        if i in taken_pred or j in taken_exp:
            continue
        taken_pred.add(i)
        taken_exp[j] = i
    matched_to = {i: j for j, i in taken_exp.items()}
    for i, item in enumerate(predicted):
        match = matched_to.get(i)
        if match is not None and (not full or _agrees(item, expected[match])):
            tally.true_positives += 1
            continue
        tally.false_positives += 1
        if match is None and _echo(item, expected, taken_exp):
            tally.echoes += 1
            tally.spurious.append(f"echo: {item.text!r}")
        else:
            tally.spurious.append(_describe(item))
    for j, want in enumerate(expected):
        taker = taken_exp.get(j)
        if taker is None or (full and not _agrees(predicted[taker], want)):
            tally.false_negatives += 1
            tally.missed.append(_describe_expected(want))
    return tally


def _agrees(item: Predicted, want: Expected) -> bool:
    return same_person(item.owner, want.owner) and item.due in want.dues


def _echo(item: Predicted, expected: Sequence[Expected], taken: dict[int, int]) -> bool:
    """An unmatched item that repeats a matched one (its words, or only its utterances)."""
    for j in taken:
        want = expected[j]
        if mentions(item.text, want.about):
            return True
        if item.segment_ids and item.segment_ids <= want.said_in:
            return True
    return False


def _describe(item: Predicted) -> str:
    extra = ", ".join(x for x in (item.owner, str(item.due or "")) if x)
    return f"{item.text!r}" + (f" ({extra})" if extra else "")


def _describe_expected(want: Expected) -> str:
    dues = sorted(str(d) for d in want.dues if d) or ["no date"]
    owner = f" ({want.owner}, {' or '.join(dues)})" if want.owner else ""
    return f"{'+'.join(want.about)}{owner}"


def sentences(summary: str) -> list[str]:
    """The summary's sentences."""
    return [s.strip() for s in _SENTENCE_END.split(summary) if s.strip()]


def supported(sentence: str, utterances: Sequence[Utterance]) -> bool:
    """Whether an utterance (with the one it answers) holds SUPPORTED of the sentence's words.

    A speaker's name that the notes put before a quote ("Priya: ...") counts as said.
    """
    words = set(content_words(sentence))
    if not words:
        return True
    said = [set(content_words(f"{u.speaker} {u.text}")) for u in utterances]
    for index, own in enumerate(said):
        answered = said[index - 1] if index else set()
        if len(words & (own | answered)) / len(words) >= SUPPORTED:
            return True
    return False


@dataclass
class SummaryTally:
    """Summary sentences supported by a segment, and expected items the summary names."""

    sentences: int = 0
    supported: int = 0
    outcomes: int = 0
    covered: int = 0

    def add(self, other: SummaryTally) -> None:
        """Fold another meeting's counts into these."""
        self.sentences += other.sentences
        self.supported += other.supported
        self.outcomes += other.outcomes
        self.covered += other.covered

    def figures(self) -> dict[str, Any]:
        """The supported share and the covered share."""
        return {
            "supported": _ratio(self.supported, self.sentences),
            "covers_outcomes": _ratio(self.covered, self.outcomes),
            "sentences": self.sentences,
        }


def score_summary(
    notes: NotesDraft, utterances: Sequence[Utterance], outcomes: Sequence[Expected]
) -> SummaryTally:
    """Support of each summary sentence, and which decisions and action items it names."""
    said = sentences(notes.summary)
    return SummaryTally(
        sentences=len(said),
        supported=sum(supported(s, utterances) for s in said),
        outcomes=len(outcomes),
        covered=sum(mentions(notes.summary, o.about) for o in outcomes),
    )


def predicted_decisions(notes: NotesDraft) -> list[Predicted]:
    """The notes' decisions as the scorer reads them."""
    return [Predicted(d.text, frozenset(d.segment_ids)) for d in notes.decisions]


def predicted_actions(notes: NotesDraft) -> list[Predicted]:
    """The notes' action items as the scorer reads them."""
    return [
        Predicted(a.text, frozenset(a.segment_ids), a.owner, a.due_date) for a in notes.action_items
    ]


def predicted_questions(notes: NotesDraft) -> list[Predicted]:
    """The notes' open questions as the scorer reads them."""
    return [Predicted(q, frozenset()) for q in notes.open_questions]


@dataclass(frozen=True)
class ExpectedSection:
    """An annotated section of a template's notes: its heading and the lines it should hold."""

    heading: str
    items: tuple[Expected, ...]


@dataclass
class SectionsTally:
    """Section lines by precision and recall, and the sections labelled as needing a model."""

    items: Tally = field(default_factory=Tally)
    needs_model_expected: int = 0
    needs_model_labelled: int = 0

    def add(self, other: SectionsTally) -> None:
        """Fold another meeting's counts into these."""
        self.items.add(other.items)
        self.needs_model_expected += other.needs_model_expected
        self.needs_model_labelled += other.needs_model_labelled

    def figures(self) -> dict[str, Any]:
        """Precision and recall of the lines; how many "needs an AI model" sections said so."""
        figures = self.items.figures()
        figures.pop("echo_rate")
        figures.pop("echoes")
        figures["needs_ai_model_labelled"] = (
            f"{self.needs_model_labelled}/{self.needs_model_expected}"
        )
        return figures


def same_heading(predicted: str, expected: str) -> bool:
    """Headings agree: the same words (folded), or a person named by the same first name."""
    left, right = _WORDS.findall(fold(predicted)), _WORDS.findall(fold(expected))
    return left == right or (bool(left) and bool(right) and left[0] == right[0] and len(left) < 3)


def score_sections(
    predicted: Sequence[DraftSection],
    expected: Sequence[ExpectedSection],
    needs_model: Sequence[str],
    needs_model_note: str,
) -> SectionsTally:
    """Lines of each expected section against the lines under the same heading.

    Lines under a heading nobody expected are false positives; a section expected to need an
    AI model counts as labelled when it carries that note and no line.
    """
    tally = SectionsTally()
    matched: set[int] = set()
    for want in expected:
        found = next(
            (i for i, s in enumerate(predicted) if i not in matched and same_heading(s.heading,
             want.heading)),
            None,
        )  # fmt: skip
        lines = [] if found is None else predicted[found].items
        if found is not None:
            matched.add(found)
        said = [Predicted(i.text, frozenset(i.segment_ids)) for i in lines]
        tally.items.add(score_items(said, want.items, full=False))
    for i, section in enumerate(predicted):
        needs = any(same_heading(section.heading, h) for h in needs_model)
        if i in matched or needs:
            continue
        for line in section.items:
            tally.items.false_positives += 1
            tally.items.spurious.append(f"{section.heading}: {line.text!r}")
    for heading in needs_model:
        tally.needs_model_expected += 1
        labelled = [
            s for s in predicted if same_heading(s.heading, heading) and s.note == needs_model_note
        ]
        tally.needs_model_labelled += bool(labelled) and not labelled[0].items
    return tally
