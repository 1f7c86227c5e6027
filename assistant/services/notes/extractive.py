"""The embedded notes engine: key sentences and heuristic decisions and action items, no LLM.

Incremental like the LLM engine: it reads the current notes, its bounded running state (word
counts, the best candidate sentences so far, the questions waiting for an answer, and what
spoken_items.py keeps) and only the new utterances. Decisions and action items are found by
spoken_items.py; this module keeps the questions, ranks sentences and writes the summary.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from datetime import date
from typing import Any

from assistant.services.notes import sections, spoken_items
from assistant.services.notes.draft import NotesDraft, Utterance, content_words, fold, similarity
from assistant.services.notes.spoken_items import Reading
from assistant.services.notes.templates import DEFAULT, Template

SUMMARY_DECISIONS = 3
SUMMARY_ACTIONS = 3
SUMMARY_SENTENCES = 3
KEY_POINTS = 6
OPEN_QUESTIONS = 6
# Sentences this similar to one already picked say nothing new in the summary.
REPEATED = 0.8
_POOL_SIZE = 40
_MAX_WORDS = 600
# A question waits this many utterances for an answer before it counts as open.
_ANSWER_WINDOW = 2

_SENTENCE = re.compile(r"(?<=[.!?])\s+")
_RECAP = re.compile(r"^\s*(?:to recap|recap|to sum up|so to sum up|in summary|summing up)\b", re.I)
_CHIT_CHAT = re.compile(
    r"\b(?:good (?:morning|afternoon|evening)|hi all|hello|thanks|thank you|bye|sorry)\b", re.I
)
# What a meeting is about, as its host says it: the summary's first sentence when there is one.
_TOPIC = re.compile(
    r"\b(?:this (?:meeting )?is about|we(?:'re| are) here to|the (?:agenda|question) is|today we"
    r"|let'?s (?:talk about|discuss|plan|settle|debrief|review|start)|we need a plan"
    r"|(?:two|three|four) things today|is the review of|first topic)\b",
    re.I,
)
# A reply that leaves the question open ("I don't know yet", "let's take that to the SREs").
_DEFERRAL = re.compile(
    r"\b(?:I don'?t know|not sure|no idea|good question|we'?ll see|find out|get back to you"
    r"|let'?s (?:leave|take|park|come back|revisit|discuss|decide)|open for now|later"
    r"|(?:haven'?t|not yet|not) decided|undecided)\b",
    re.I,
)


def update(
    current: NotesDraft,
    new: Sequence[Utterance],
    *,
    said_on: date,
    speakers: Sequence[str],
    template: Template = DEFAULT,
) -> NotesDraft:
    """The notes after reading `new`, given the notes so far (with their engine_state).

    The template's sections are written too (sections.py); the default template has none.
    """
    state = _fresh_state(current.engine_state)
    draft = NotesDraft(
        decisions=list(current.decisions),
        action_items=list(current.action_items),
        open_questions=list(current.open_questions),
        title=current.title,
    )
    reading = Reading(said_on, _first_names(speakers, new), draft, state)
    kinds = sections.wanted(template)
    for utterance in new:
        _read(reading, utterance, kinds)
        spoken_items.after_utterance(reading, utterance)
        state["utterances"] = int(state["utterances"]) + 1
    _trim_counts(state)
    _summarise(reading)
    draft.sections = sections.build(template, draft, state)
    draft.engine_state = state
    return draft


def final(
    utterances: Sequence[Utterance],
    *,
    said_on: date,
    speakers: Sequence[str],
    topic: str,
    template: Template = DEFAULT,
) -> NotesDraft:
    """Notes of a whole meeting, read from the start, with a title."""
    notes = update(NotesDraft(), utterances, said_on=said_on, speakers=speakers, template=template)
    notes.title = topic.strip() or (notes.key_points[0][:80] if notes.key_points else "Meeting")
    return notes


def _fresh_state(previous: dict[str, Any]) -> dict[str, Any]:
    """The running state, copied so the caller's draft is left as it was."""
    return {
        "counts": dict(previous.get("counts", {})),
        "pool": list(previous.get("pool", [])),
        "questions": list(previous.get("questions", [])),
        "utterances": int(previous.get("utterances", 0)),
        **spoken_items.fresh_state(previous),
        **sections.fresh_state(previous),
    }


def _first_names(speakers: Sequence[str], new: Sequence[Utterance]) -> dict[str, str]:
    """Folded first name -> full name, for everyone who spoke (owners are named by first name)."""
    names: dict[str, str] = {}
    for full in [*speakers, *(u.speaker for u in new)]:
        if full.strip():
            names.setdefault(fold(full.split()[0]), full.strip())
    return names


def _read(reading: Reading, utterance: Utterance, kinds: frozenset[str]) -> None:
    """Take one utterance's sentences into the counts, the pool, the items and the questions.

    `kinds`: what the template's sections are filled from (sections.wanted).
    """
    sentences = [s.strip() for s in _SENTENCE.split(utterance.text) if s.strip()]
    if not sentences:
        return
    _answer_questions(reading, utterance)
    spoken_items.before_utterance(reading, utterance, sentences[0])
    recap = bool(_RECAP.match(sentences[0]))
    for index, sentence in enumerate(sentences):
        sections.read(reading.state, utterance, sentence, kinds)
        words = content_words(sentence)
        for word in words:
            reading.state["counts"][word] = reading.state["counts"].get(word, 0) + 1
        pooled = {
            "text": sentence,
            "speaker": utterance.speaker,
            "seq": utterance.seq,
            "at": index,
            "cue": -1 if _CHIT_CHAT.search(sentence) else 0,
            "topic": bool(_TOPIC.search(sentence)),
        }
        if utterance.slide:
            pooled["slide"] = utterance.slide
        reading.state["pool"].append(pooled)
        if recap:
            # A recap says what mattered: good summary material, but no new items.
            pooled["cue"] = 1.5
            continue
        previous = sentences[index - 1] if index else ""
        following = sentences[index + 1] if index + 1 < len(sentences) else ""
        if spoken_items.decision(
            reading, utterance, sentence, previous=previous, following=following
        ):
            pooled["cue"] = 1.5
        elif spoken_items.action(reading, utterance, sentence):
            # Listed as an item already; the summary should say something else.
            pooled["cue"] = -1
        elif sentence.endswith("?"):
            pooled["cue"] = -1
            _ask(reading, utterance, sentence, words)
    # The latest questions still open; older ones drop off (the notes stay bounded).
    reading.state["questions"] = reading.state["questions"][-OPEN_QUESTIONS:]
    reading.draft.open_questions = [q["text"] for q in reading.state["questions"]]


def _ask(reading: Reading, utterance: Utterance, sentence: str, words: list[str]) -> None:
    """A question worth noting waits for its answer."""
    asked = {fold(q["text"]) for q in reading.state["questions"]}
    if len(words) >= 3 and fold(sentence) not in asked:
        reading.state["questions"].append(
            {"text": sentence, "seq": utterance.seq, "speaker": utterance.speaker,
             "at": reading.now, "open": False}
        )  # fmt: skip


def _answer_questions(reading: Reading, utterance: Utterance) -> None:
    """Someone else's reply answers a waiting question unless it puts it off; unanswered, open."""
    kept = []
    for question in reading.state["questions"]:
        waiting = not question.get("open", True)
        if waiting and _DEFERRAL.search(utterance.text):
            question["open"] = True
        elif waiting and question.get("speaker") != utterance.speaker:
            continue  # answered
        elif waiting and reading.now - int(question.get("at", 0)) >= _ANSWER_WINDOW:
            question["open"] = True
        kept.append(question)
    reading.state["questions"] = kept


def _trim_counts(state: dict[str, Any]) -> None:
    """Keep the running state bounded: the most frequent words, the best candidate sentences."""
    counts: dict[str, int] = state["counts"]
    if len(counts) > _MAX_WORDS:
        keep = sorted(counts.items(), key=lambda kv: -kv[1])[: _MAX_WORDS // 2]
        state["counts"] = dict(keep)
    pool: list[dict[str, Any]] = []
    seen: set[str] = set()
    for sentence in sorted(state["pool"], key=lambda s: -_score(state["counts"], s)):
        # A sentence said again (a recap, a repeated point) is one candidate, the first time.
        said = fold(str(sentence["text"]))
        if said not in seen and len(pool) < _POOL_SIZE:
            seen.add(said)
            pool.append(sentence)
    state["pool"] = sorted(pool, key=_said_order)


def _score(counts: dict[str, int], sentence: dict[str, Any]) -> float:
    """How central a sentence is: frequent meeting words, decisions and actions, not chit-chat."""
    words = set(content_words(str(sentence["text"])))
    if len(words) < 3:
        return 0.0
    weight = sum(math.log1p(counts.get(w, 0)) for w in words) / math.sqrt(len(words))
    return max(weight + float(sentence.get("cue", 0)), 0.01)


def _summarise(reading: Reading) -> None:
    """Summary: what the meeting was about, what was decided, who does what next.

    Every sentence stays close to what was said (a decision as stated, an action item as
    "Zoë: fix the accessibility issues by Tuesday."); with nothing decided or given, the
    best sentences. Key points: the best sentences the summary does not already say.
    """
    counts = reading.state["counts"]
    ranked = sorted(reading.state["pool"], key=lambda s: -_score(counts, s))
    best: list[dict[str, Any]] = []
    for candidate in ranked:
        if len(best) == SUMMARY_SENTENCES + KEY_POINTS:
            break
        text = str(candidate["text"])
        if all(similarity(text, str(b["text"])) < REPEATED for b in best):
            best.append(candidate)
    outcomes = _outcomes(reading.draft)
    # Sentences that say something besides the outcomes: not an item, not a recap of them.
    plain = [
        b
        for b in best
        if float(b.get("cue", 0)) == 0
        and len(content_words(str(b["text"]))) >= 3
        and all(similarity(str(b["text"]), o) < REPEATED for o in outcomes)
    ]
    if outcomes:
        # What the meeting was about (as its host put it, if they did), then the outcomes.
        topics = [b for b in plain if b.get("topic")]
        summary = (topics or plain)[:1]
    else:
        summary = sorted(best[:SUMMARY_SENTENCES], key=_said_order)
    shown = [_attributed(s) for s in summary] + outcomes
    points = [b for b in plain if b not in summary]
    reading.draft.summary = " ".join(shown)
    reading.draft.key_points = [_in_context(s) for s in sorted(points, key=_said_order)][
        :KEY_POINTS
    ]


def _outcomes(draft: NotesDraft) -> list[str]:
    """The decisions as stated, then the owned action items as "Zoë: fix ... by Tuesday"."""
    decided = [d.text for d in draft.decisions[:SUMMARY_DECISIONS]]
    owned = [a for a in draft.action_items if a.owner][:SUMMARY_ACTIONS]
    return decided + [sections.action_line(item) for item in owned]


def _said_order(sentence: dict[str, Any]) -> tuple[int, int]:
    """Where a pooled sentence was said: its segment, then its place in the segment."""
    return int(sentence["seq"]), int(sentence.get("at", 0))


def _in_context(sentence: dict[str, Any]) -> str:
    """A key point with the slide on screen when it was said, if any."""
    said = _attributed(sentence)
    slide = str(sentence.get("slide") or "").strip()
    return f"While slide '{slide}' was shown, {said}" if slide else said


def _attributed(sentence: dict[str, Any]) -> str:
    """A sentence as quoted in the notes: "Björn: I'll ..." when it speaks in the first person."""
    text = str(sentence["text"])
    if not re.search(r"\b(?:I|I'll|I'm|I've|I'd|me|my|we|we'll|our)\b", text, re.I):
        return text
    name = str(sentence["speaker"]).strip()
    return f"{name.split()[0] if name else 'Someone'}: {text}"
