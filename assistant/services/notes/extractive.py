"""The embedded notes engine: key sentences and heuristic decisions and action items, no LLM.

Incremental like the LLM engine: it reads the current notes, its bounded running state (word
counts and the best candidate sentences so far) and only the new utterances.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from assistant.services.notes import dates
from assistant.services.notes.draft import (
    DraftAction,
    DraftDecision,
    NotesDraft,
    Utterance,
    content_words,
    fold,
    similarity,
    stable_key,
)

SUMMARY_SENTENCES = 3
KEY_POINTS = 6
OPEN_QUESTIONS = 6
# Sentences this similar to one already picked say nothing new in the summary.
REPEATED = 0.8
_POOL_SIZE = 40
_MAX_WORDS = 600
# Items this similar (content-word overlap) to an existing one are the same item said again.
SAME_ITEM = 0.5
# A question this similar to a later decision was settled by it.
SETTLED = 0.3
# An open request ("can someone ...?") may be taken by whoever speaks within this many utterances.
_TAKE_WINDOW = 3

_SENTENCE = re.compile(r"(?<=[.!?])\s+")
_DECISION = re.compile(
    r"\b(?:we(?:'ve| have)? decided|we decide|decided|let'?s go with|let us go with"
    r"|we(?:'ll| will) go with|we(?:'re| are) going with|(?:we|all|it'?s|it is) agreed"
    r"|we agree|agreed (?:to|on|that)|the decision is|final decision)\b",
    re.I,
)
_FIRST_PERSON = re.compile(
    r"^(?:.*?\b)?(?:I'll|I will|I'm going to|I am going to|let me)\s+(?:also\s+)?(?P<what>.+)$",
    re.I,
)
_TAKE_IT = re.compile(
    r"^(?:take|do|handle|pick up|grab|own|review) (?:it|that|this)\b|^(?:pick|take) (?:it|that) up",
    re.I,
)
_OPEN_REQUEST = re.compile(
    r"\b(?:can|could|would) (?:someone|somebody|anyone|anybody)\s+(?P<what>.+?)\?*$", re.I
)
_YOU_REQUEST = re.compile(r"\b(?:can|could|would|will) you(?: please)?\s+(?P<what>.+?)\?*$", re.I)
_RECAP = re.compile(r"^\s*(?:to recap|recap|to sum up|so to sum up|in summary|summing up)\b", re.I)
_CHIT_CHAT = re.compile(
    r"\b(?:good (?:morning|afternoon|evening)|hi all|hello|thanks|thank you|bye|sorry)\b", re.I
)
_NOT_A_TASK = re.compile(r"^(?:be|have to|need to|just|probably|see|try)\b", re.I)


@dataclass
class _Context:
    """What the engine knows while it reads: who is who, and what it has found so far."""

    said_on: date
    first_names: dict[str, str]
    draft: NotesDraft
    state: dict[str, Any] = field(default_factory=dict)


def update(
    current: NotesDraft, new: Sequence[Utterance], *, said_on: date, speakers: Sequence[str]
) -> NotesDraft:
    """The notes after reading `new`, given the notes so far (with their engine_state)."""
    state = _fresh_state(current.engine_state)
    draft = NotesDraft(
        decisions=list(current.decisions),
        action_items=list(current.action_items),
        open_questions=list(current.open_questions),
        title=current.title,
    )
    ctx = _Context(said_on, _first_names(speakers, new), draft, state)
    for utterance in new:
        _read(ctx, utterance)
        state["utterances"] = int(state["utterances"]) + 1
    _trim_counts(state)
    _summarise(ctx)
    draft.engine_state = state
    return draft


def final(
    utterances: Sequence[Utterance], *, said_on: date, speakers: Sequence[str], topic: str
) -> NotesDraft:
    """Notes of a whole meeting, read from the start, with a title."""
    notes = update(NotesDraft(), utterances, said_on=said_on, speakers=speakers)
    notes.title = topic.strip() or (notes.key_points[0][:80] if notes.key_points else "Meeting")
    return notes


def _fresh_state(previous: dict[str, Any]) -> dict[str, Any]:
    """The running state, copied so the caller's draft is left as it was."""
    return {
        "counts": dict(previous.get("counts", {})),
        "pool": list(previous.get("pool", [])),
        "pending": previous.get("pending"),
        "questions": list(previous.get("questions", [])),
        "utterances": int(previous.get("utterances", 0)),
    }


def _first_names(speakers: Sequence[str], new: Sequence[Utterance]) -> dict[str, str]:
    """Folded first name -> full name, for everyone who spoke (owners are named by first name)."""
    names: dict[str, str] = {}
    for full in [*speakers, *(u.speaker for u in new)]:
        if full.strip():
            names.setdefault(fold(full.split()[0]), full.strip())
    return names


def _read(ctx: _Context, utterance: Utterance) -> None:
    """Take one utterance's sentences into the counts, the pool, the items and the questions."""
    sentences = [s.strip() for s in _SENTENCE.split(utterance.text) if s.strip()]
    recap = bool(sentences) and bool(_RECAP.match(sentences[0]))
    for index, sentence in enumerate(sentences):
        words = content_words(sentence)
        for word in words:
            ctx.state["counts"][word] = ctx.state["counts"].get(word, 0) + 1
        ctx.state["pool"].append(
            {
                "text": sentence,
                "speaker": utterance.speaker,
                "seq": utterance.seq,
                "at": index,
                "cue": -1 if _CHIT_CHAT.search(sentence) else 0,
            }
        )
        if recap:
            # A recap says what mattered: good summary material, but no new items.
            ctx.state["pool"][-1]["cue"] = 1.5
            continue
        following = sentences[index + 1] if index + 1 < len(sentences) else ""
        if _decision(ctx, utterance, sentence, following):
            ctx.state["pool"][-1]["cue"] = 1.5
        elif _action(ctx, utterance, sentence):
            # Listed as an item already; the summary should say something else.
            ctx.state["pool"][-1]["cue"] = -1
        elif sentence.endswith("?"):
            ctx.state["pool"][-1]["cue"] = -1
            asked = {fold(q["text"]) for q in ctx.state["questions"]}
            if len(words) >= 3 and fold(sentence) not in asked:
                ctx.state["questions"].append({"text": sentence, "seq": utterance.seq})
    # The latest questions still open; older ones drop off (the notes stay bounded).
    ctx.state["questions"] = ctx.state["questions"][-OPEN_QUESTIONS:]
    ctx.draft.open_questions = [q["text"] for q in ctx.state["questions"]]


def _decision(ctx: _Context, utterance: Utterance, sentence: str, following: str) -> bool:
    """Record the decision the sentence states ("Decided then." names the next one); found?"""
    if sentence.endswith("?") or not _DECISION.search(sentence):
        return False
    text = sentence
    if len(content_words(sentence)) < 3:
        if not following or following.endswith("?"):
            return False
        text = following
    for existing in ctx.draft.decisions:
        if similarity(existing.text, text) >= SAME_ITEM:
            existing.segment_ids = _union(existing.segment_ids, [utterance.segment_id])
            break
    else:
        ctx.draft.decisions.append(
            DraftDecision(text=text, segment_ids=[utterance.segment_id], key=stable_key(text))
        )
    # A question this decision answers is no longer open.
    ctx.state["questions"] = [
        q for q in ctx.state["questions"] if similarity(q["text"], text) < SETTLED
    ]
    return True


def _action(ctx: _Context, utterance: Utterance, sentence: str) -> bool:
    """Record the action item the sentence states, or give a pending request its owner; found?"""
    addressee, body = _addressee(ctx, sentence)
    first_person = _FIRST_PERSON.match(body)
    if first_person and addressee is None:
        what = _clean(first_person.group("what"))
        if _TAKE_IT.match(what) and _take_pending(ctx, utterance):
            return True
        if not what or _NOT_A_TASK.match(what):
            return False
        return _add_action(ctx, utterance, what, owner=utterance.speaker, request=False) is not None
    open_request = _OPEN_REQUEST.search(body)
    if open_request and addressee is None:
        item = _add_action(ctx, utterance, open_request.group("what"), owner="", request=True)
        if item is not None:
            ctx.state["pending"] = {"key": item.key, "utterances": ctx.state["utterances"]}
        return item is not None
    if addressee is None:
        return False
    you = _YOU_REQUEST.search(body)
    what = you.group("what") if you else re.sub(r"^(?:please)\s+", "", body, flags=re.I)
    # "Zoë, what do you think?" is no task: an addressed line is one when it asks or sets a date.
    if not you and not re.match(r"^please\b", body, re.I) and not dates.DUE.search(body):
        return False
    return _add_action(ctx, utterance, what, owner=addressee, request=True) is not None


def _addressee(ctx: _Context, sentence: str) -> tuple[str | None, str]:
    """The full name of whoever a sentence opens by naming ("Zoë, ..."), and the rest of it."""
    match = re.match(r"^\s*([^\W\d_][\w'-]*),\s+(.+)$", sentence)
    if match and fold(match.group(1)) in ctx.first_names:
        return ctx.first_names[fold(match.group(1))], match.group(2)
    named = re.match(
        r"^\s*([^\W\d_][\w'-]*)\s+(?:will|is going to|needs to|has to|should)\s+(.+)$", sentence
    )
    if named and fold(named.group(1)) in ctx.first_names:
        return ctx.first_names[fold(named.group(1))], f"please {named.group(2)}"
    return None, sentence


def _add_action(
    ctx: _Context, utterance: Utterance, said: str, *, owner: str, request: bool
) -> DraftAction | None:
    """Add (or reinforce) an action item from what was said; None when nothing is left of it."""
    due_text, what = dates.find_due(said)
    if not due_text:
        bare = re.search(r"\b(today|tonight|tomorrow)\b", what, re.I)
        if bare:
            due_text = bare.group(1)
            what = (what[: bare.start()] + what[bare.end() :]).strip()
    what = _clean(what)
    if request:
        # Said to someone else: "my pull request" is the speaker's.
        first = utterance.speaker.split()[0] if utterance.speaker.strip() else "the speaker"
        what = re.sub(r"\bmy\b", f"{first}'s", what, flags=re.I)
    if len(content_words(what)) < 1:
        return None
    text = what[:1].upper() + what[1:]
    due = dates.parse_due(due_text, ctx.said_on) if due_text else None
    for item in ctx.draft.action_items:
        # A request nobody owns yet ("can someone ...?") is the same item whoever took it.
        same_owner = not owner or not item.owner or fold(item.owner) == fold(owner)
        if same_owner and similarity(item.text, text) >= SAME_ITEM:
            item.segment_ids = _union(item.segment_ids, [utterance.segment_id])
            if due_text and not item.due_text:
                item.due_text, item.due_date = due_text, due
            return item
    ctx.draft.action_items.append(
        DraftAction(
            text=text,
            owner=owner,
            due_text=due_text,
            due_date=due,
            segment_ids=[utterance.segment_id],
            key=stable_key(owner if not request else "", text),
        )
    )
    return ctx.draft.action_items[-1]


def _take_pending(ctx: _Context, utterance: Utterance) -> bool:
    """ "I'll take it" after "can someone ...?": the speaker owns that request; taken?"""
    pending = ctx.state.get("pending")
    if not pending or ctx.state["utterances"] - int(pending["utterances"]) > _TAKE_WINDOW:
        return False
    for item in ctx.draft.action_items:
        if item.key == pending["key"]:
            # Taken again (a request said twice): whoever took it first keeps it.
            item.owner = item.owner or utterance.speaker
            item.segment_ids = _union(item.segment_ids, [utterance.segment_id])
            ctx.state["pending"] = None
            return True
    return False


def _clean(what: str) -> str:
    """An item's wording: no trailing punctuation, filler or dangling "and"."""
    text = re.sub(r"\s+", " ", what).strip(" ,;:-")
    text = re.sub(r"[.!?]+$", "", text).strip()
    return re.sub(r"^(?:also|then|please)\s+", "", text, flags=re.I)


def _union(left: list[int], right: list[int]) -> list[int]:
    """Segment ids of both, in order, once each."""
    return list(dict.fromkeys([*left, *right]))


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


def _summarise(ctx: _Context) -> None:
    """Summary and key points: the best sentences of the pool, in the order they were said."""
    counts = ctx.state["counts"]
    ranked = sorted(ctx.state["pool"], key=lambda s: -_score(counts, s))
    best: list[dict[str, Any]] = []
    for candidate in ranked:
        if len(best) == SUMMARY_SENTENCES + KEY_POINTS:
            break
        text = str(candidate["text"])
        if all(similarity(text, str(b["text"])) < REPEATED for b in best):
            best.append(candidate)
    summary = sorted(best[:SUMMARY_SENTENCES], key=_said_order)
    points = sorted(best[SUMMARY_SENTENCES:], key=_said_order)
    ctx.draft.summary = " ".join(_attributed(s) for s in summary)
    ctx.draft.key_points = [_attributed(s) for s in points]


def _said_order(sentence: dict[str, Any]) -> tuple[int, int]:
    """Where a pooled sentence was said: its segment, then its place in the segment."""
    return int(sentence["seq"]), int(sentence.get("at", 0))


def _attributed(sentence: dict[str, Any]) -> str:
    """A sentence as quoted in the notes: "Björn: I'll ..." when it speaks in the first person."""
    text = str(sentence["text"])
    if not re.search(r"\b(?:I|I'll|I'm|I've|I'd|me|my|we|we'll|our)\b", text, re.I):
        return text
    name = str(sentence["speaker"]).strip()
    return f"{name.split()[0] if name else 'Someone'}: {text}"
