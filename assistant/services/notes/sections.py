"""A template's sections as the automatic extract writes them (no LLM): from what was said.

The extractive engine hands each sentence here; what a section of the meeting's template can
use is kept in a bounded list of the running state (`said`: kind, speaker, text, segment), and
the sections are built from it and from the notes' decisions, action items and questions:

- stand-up, per person: "Yesterday I ...", "Today I'm ...", "I'm blocked on ...", "No blockers";
- needs ("we need", "we're looking for", "our main concern is") and objections (price or
  budget, security, timing, "but we can't ...", "too expensive");
- the topics raised (questions that open one, "I wanted to talk about ...");
- next steps and action items: the action items, "Owner: task by when".

A section the extract cannot write (free instructions) says so (templates.NEEDS_AI_MODEL); a
person who did not say one of the stand-up's parts gets a note saying which ("Not said:
blockers."). Every line cites the segments it comes from; nothing is made up.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from assistant.services.notes.draft import (
    DraftAction,
    DraftSection,
    DraftSectionItem,
    NotesDraft,
    Utterance,
    content_words,
    fold,
)
from assistant.services.notes.templates import FROM_ITEMS, NEEDS_AI_MODEL, Template
from assistant.template_models import SectionExtract as Kind

# What the extract reads from people's own words (the rest comes from the notes' items).
SPOKEN = frozenset({Kind.YESTERDAY, Kind.TODAY, Kind.BLOCKERS, Kind.NEEDS, Kind.OBJECTIONS,
                    Kind.TOPICS})  # fmt: skip
_MAX_SAID = 80
_MAX_PER_PERSON_KIND = 3
_MAX_PEOPLE = 20

# Words before what someone reports: "As for me, yesterday I ...", "And today I ...".
_LEAD = re.compile(
    r"^(?:(?:and|so|also|then|okay|ok|well|right|as for me|for me|from me|on my side|my update"
    r"|me)\s*[,:]?\s+)*",
    re.I,
)
_YESTERDAY = re.compile(
    r"\b(?:yesterday|since (?:the )?last (?:stand-?up|time)|last friday)\b", re.I
)
_TODAY = re.compile(r"\btoday\b", re.I)
_FIRST_PERSON_START = re.compile(r"^I(?:\b|')", re.I)
# "Yesterday I fixed X and today I'm on Y": each part on its own line.
_SECOND_PART = re.compile(r"\s*(?:[,;]\s*)?\b(?:and|but)\s+(?=(?:today|yesterday)\b)", re.I)
_NO_BLOCKERS = re.compile(
    r"\b(?:no blockers?|nothing (?:is )?blocking|nothing blocks|not blocked|no impediments"
    r"|(?:I'?m|I am) unblocked)\b",
    re.I,
)
_BLOCKED = re.compile(
    r"\b(?:blocked (?:on|by)|blocking|my blocker|the blocker is|stuck (?:on|with)"
    r"|waiting (?:on|for)|held up by|can'?t (?:continue|proceed|go on) (?:until|without))\b",
    re.I,
)
_MINE = re.compile(r"\b(?:I|I'm|I've|my|me|we|we're|our)\b|\bthat'?s blocking\b", re.I)
_NEED = re.compile(
    r"\b(?:we (?:really |also |still |just )?need|we'?d need|what we need|we(?:'re| are) "
    r"(?:also |still |really )?looking for|(?:our|the) (?:main |biggest |key |first )?"
    r"(?:concern|requirement|priority|must-have) is|we (?:also |really )?want|we'?d (?:also )?"
    r"like|we (?:also )?require|it (?:has|needs) to)\b",
    re.I,
)
_OBJECTION = re.compile(
    r"\b(?:too (?:expensive|pricey|costly|slow|late|early|soon|complex|complicated|much)"
    r"|budget|prices?|pricing|costs?|expensive|afford|security|compliance|privacy|gdpr|legal"
    r"|risky|risks?|worried|worry|concerns?|concerned|hesitant|not sure|not convinced|timing"
    r"|timeline|can'?t (?:start|commit|sign|move)|not (?:until|before)|deal-?breaker)\b",
    re.I,
)
_BUT_NOT = re.compile(
    r"\bbut\b.*\b(?:can'?t|cannot|won'?t|don'?t|doesn'?t|isn'?t|aren'?t|not|no)\b", re.I
)
# A commitment ("I'll send the pricing") is a next step, not an objection.
_COMMITMENT = re.compile(r"\b(?:I'?ll|I will|let me|I'?m going to)\b", re.I)
_ASKS_YOU = re.compile(r"\b(?:can|could|would|will) you\b", re.I)
_RAISES = re.compile(
    r"\b(?:I (?:wanted|want|would like|'d like) to (?:talk|discuss|raise|bring up|ask|chat)"
    r"|let'?s (?:talk|chat) about|let'?s discuss|can we (?:talk|discuss|chat) about"
    r"|on my mind|(?:one more|another) (?:thing|topic)|(?:the )?(?:first|next) topic)\b",
    re.I,
)
# Words of a question that raise no topic of their own ("Anything else on your mind?").
_GENERIC_TEXT = """anything else something everything thing mind question update news good fine
    one think everyone everybody ready start first"""
_GENERIC = frozenset(_GENERIC_TEXT.split())


def fresh_state(previous: dict[str, Any]) -> dict[str, Any]:
    """This module's part of the running state, copied so the caller's is left as it was."""
    return {"said": [dict(s) for s in previous.get("said", [])]}


def wanted(template: Template) -> frozenset[str]:
    """The kinds of things said that the template's sections are filled from."""
    return frozenset(s.extract for s in template.sections if s.extract in SPOKEN)


def read(state: dict[str, Any], utterance: Utterance, sentence: str, kinds: frozenset[str]) -> None:
    """Keep what this sentence says that a section wants (a stand-up part, a need, a topic)."""
    if not kinds:
        return
    for kind, text in _parts(sentence, kinds):
        _keep(state, kind, utterance, text)


def _parts(sentence: str, kinds: frozenset[str]) -> Iterable[tuple[str, str]]:
    """(kind, line) for each thing in the sentence a wanted kind takes."""
    if kinds & {Kind.YESTERDAY, Kind.TODAY}:
        for part in _SECOND_PART.split(sentence):
            for kind, marker in ((Kind.YESTERDAY, _YESTERDAY), (Kind.TODAY, _TODAY)):
                said = _reported(part, marker) if kind in kinds else None
                if said:
                    yield kind, said
    if Kind.BLOCKERS in kinds:
        if _NO_BLOCKERS.search(sentence):
            yield Kind.BLOCKERS, "none"
        elif _BLOCKED.search(sentence) and _MINE.search(sentence):
            yield Kind.BLOCKERS, _sentence(_LEAD.sub("", sentence))
    if sentence.endswith("?") and _ASKS_YOU.search(sentence):
        return  # a request to someone: an action item, if anything
    if Kind.NEEDS in kinds and _NEED.search(sentence) and not sentence.endswith("?"):
        yield Kind.NEEDS, _sentence(_LEAD.sub("", sentence))
    elif Kind.OBJECTIONS in kinds and _objection(sentence):
        yield Kind.OBJECTIONS, _sentence(_LEAD.sub("", sentence))
    if Kind.TOPICS in kinds and _raises_topic(sentence):
        yield Kind.TOPICS, _sentence(_LEAD.sub("", sentence))


def _reported(part: str, marker: re.Pattern[str]) -> str | None:
    """ "Yesterday I fixed X" or "I was on call yesterday": the part without the time word."""
    plain = _LEAD.sub("", part.strip())
    found = marker.search(plain)
    if found is None or not (found.start() == 0 or _FIRST_PERSON_START.match(plain)):
        return None
    rest = plain[: found.start()] + plain[found.end() :]
    rest = re.sub(r"\s+([,.;!?])", r"\1", re.sub(r"\s{2,}", " ", rest)).strip(" ,;:-")
    return _sentence(rest) if content_words(rest) else None


def _objection(sentence: str) -> bool:
    """A concern about price, security, timing, or a "but ... can't": not a commitment."""
    if _COMMITMENT.search(sentence) or len(content_words(sentence)) < 3:
        return False
    return bool(_OBJECTION.search(sentence) or _BUT_NOT.search(sentence))


def _raises_topic(sentence: str) -> bool:
    """A question that opens a subject of its own, or "I wanted to talk about ..."."""
    if _RAISES.search(sentence):
        return True
    if not sentence.endswith("?"):
        return False
    return len({w for w in content_words(sentence) if w not in _GENERIC}) >= 2


def _sentence(text: str) -> str:
    """A line as the notes show it: capitalised, ending in a full stop (or as it ended)."""
    text = text.strip()
    text = text[:1].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else f"{text}."


def _keep(state: dict[str, Any], kind: str, utterance: Utterance, text: str) -> None:
    """Add a line to the running state, once, with the latest few of each person and kind."""
    said: list[dict[str, Any]] = state["said"]
    same = [s for s in said if s["kind"] == kind and s["speaker"] == utterance.speaker]
    if any(fold(s["text"]) == fold(text) for s in same):
        return
    if len(same) >= _MAX_PER_PERSON_KIND:
        said.remove(same[0])
    said.append(
        {"kind": kind, "speaker": utterance.speaker, "text": text,
         "segment_id": utterance.segment_id}
    )  # fmt: skip
    del said[:-_MAX_SAID]


def build(template: Template, draft: NotesDraft, state: dict[str, Any]) -> list[DraftSection]:
    """The template's sections from the running state and the notes' items."""
    if template.is_default:
        return []
    said: list[dict[str, Any]] = state.get("said", [])
    if template.per_person:
        return _per_person(template, draft, said)
    sections = []
    for section in template.sections:
        if section.extract == Kind.NOTHING:
            sections.append(DraftSection(section.heading, note=NEEDS_AI_MODEL))
        else:
            sections.append(DraftSection(section.heading, _items(section.extract, draft, said)))
    return sections


def _items(kind: str, draft: NotesDraft, said: Sequence[dict[str, Any]]) -> list[DraftSectionItem]:
    """The lines of one kind: things said (with who said them), or the notes' own items."""
    if kind in FROM_ITEMS:
        return from_items(kind, draft)
    return [
        DraftSectionItem(f"{_first_name(s['speaker'])}: {s['text']}", [int(s["segment_id"])])
        for s in said
        if s["kind"] == kind
    ]


def _per_person(
    template: Template, draft: NotesDraft, said: Sequence[dict[str, Any]]
) -> list[DraftSection]:
    """A section for each person who said something the template asks about, in speaking order.

    Its lines are the template's sections ("Yesterday: ..."); a spoken part they did not say is
    named in the note. Sections the extract cannot write, and decisions or open questions (no
    one person's), follow as sections of their own.
    """
    order = {s.extract: n for n, s in enumerate(template.sections)}
    headings = {s.extract: s.heading for s in template.sections}
    people: dict[str, list[tuple[int, DraftSectionItem]]] = {}
    for entry in said:
        if entry["kind"] in order:
            line = f"{headings[entry['kind']]}: {_as_line(entry['text'])}"
            item = DraftSectionItem(line, [int(entry["segment_id"])])
            people.setdefault(entry["speaker"], []).append((order[entry["kind"]], item))
    if Kind.ACTION_ITEMS in order:
        for person, lines in people.items():
            owned = owned_lines(headings[Kind.ACTION_ITEMS], draft, person)
            lines += [(order[Kind.ACTION_ITEMS], item) for item in owned]
    spoken = [s for s in template.sections if s.extract in SPOKEN]
    sections = []
    for person, lines in list(people.items())[:_MAX_PEOPLE]:
        told = {kind for kind, n in order.items() if any(i == n for i, _ in lines)}
        missing = [s.heading.lower() for s in spoken if s.extract not in told]
        note = f"Not said: {', '.join(missing)}." if missing else ""
        items = [item for _, item in sorted(lines, key=lambda pair: pair[0])]
        sections.append(DraftSection(person, items, note))
    for section in template.sections:
        if section.extract == Kind.NOTHING:
            sections.append(DraftSection(section.heading, note=NEEDS_AI_MODEL))
        elif section.extract in (Kind.DECISIONS, Kind.OPEN_QUESTIONS):
            sections.append(DraftSection(section.heading, _items(section.extract, draft, said)))
    return sections


def _as_line(text: str) -> str:
    """What was kept, as it follows a heading ("Blockers: none.")."""
    return "none." if text == "none" else text


def from_items(kind: str, draft: NotesDraft) -> list[DraftSectionItem]:
    """A section made from the notes' own items (templates.FROM_ITEMS), whichever engine's."""
    if kind == Kind.ACTION_ITEMS:
        return [DraftSectionItem(action_line(a), list(a.segment_ids)) for a in draft.action_items]
    if kind == Kind.DECISIONS:
        return [DraftSectionItem(d.text, list(d.segment_ids)) for d in draft.decisions]
    return [DraftSectionItem(q) for q in draft.open_questions]


def owned_lines(heading: str, draft: NotesDraft, person: str) -> list[DraftSectionItem]:
    """A person's action items as lines of their section ("Action items: send the quote.")."""
    return [
        DraftSectionItem(f"{heading}: {action_line(a, named=False)}", list(a.segment_ids))
        for a in draft.action_items
        if a.owner.strip() and fold(a.owner.strip()) == fold(person)
    ]


def action_line(item: DraftAction, *, named: bool = True) -> str:
    """An action item as a line: "Zoë: fix the accessibility issues by Tuesday." """
    task = item.text[:1].lower() + item.text[1:] if item.owner and named else item.text
    due = ""
    if item.due_text and item.due_text not in task:
        soon = re.match(r"(?:today|tonight|tomorrow|this)\b", item.due_text, re.I)
        due = f" {item.due_text}" if soon else f" by {item.due_text}"
    if item.owner and named:
        return f"{_first_name(item.owner)}: {task}{due}."
    return f"{task}{due}."


def _first_name(name: str) -> str:
    return name.split()[0] if name.strip() else "Someone"
