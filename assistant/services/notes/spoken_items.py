"""Decisions and action items as people say them, read one sentence at a time (no LLM).

The extractive engine (extractive.py) hands each sentence here with a `Reading`: the notes so
far and a small running state that outlives one update (all of it JSON, kept bounded):

- `recent`: the action items given or taken in the last few utterances, so that the owner's
  answer ("Yes, I will send it by Wednesday noon") confirms the item instead of becoming
  another one ("Send it"), and a refusal ("I can't this week") takes its owner away again;
- `proposal`: the last "let's ..." that nobody has agreed to yet, a decision once someone
  answers "Agreed";
- `pending`: the last open request ("can someone ...?"), for whoever takes it;
- `previous`: the last utterances, to read "I'll send them" as the request it answers.
"""

from __future__ import annotations

import re
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

# Items this similar (content-word overlap) to an existing one are the same item said again.
SAME_ITEM = 0.5
# A question this similar to a later decision was settled by it.
SETTLED = 0.3
# An answer this similar to an item given to its speaker confirms that item.
CONFIRMS = 0.3
# An open request ("can someone ...?") may be taken by whoever speaks within this many utterances;
# an item given to someone may be confirmed or refused by them within as many.
_TAKE_WINDOW = 3
_RECENT_KEPT = 8
_PREVIOUS_KEPT = 3

_FILLER = re.compile(
    r"^(?:(?:okay|ok|so|then|alright|all right|right|good|fine|great|yes|yeah|sure|well|"
    r"good catch)\b[,.!]?\s*)+",
    re.I,
)
_DECISION = re.compile(
    r"\b(?:we(?:'ve| have)? decided|we decide|decided|let'?s go with|let us go with"
    r"|we(?:'ll| will) go with|we(?:'re| are) going with|(?:we|all|it'?s|it is) agreed"
    r"|we agree|agreed (?:to|on|that)|the decision is|final decision|let'?s agree|let us agree"
    r"|(?:is|are) (?:now )?(?:cancell?ed|approved|off|on hold|postponed|confirmed))\b"
    r"|^(?:the\s+)?(?:final\s+)?decision(?:\s+(?:one|two|three|four|five|\d+))?\s*:",
    re.I,
)
# "We will build SSO in January": a plan stated for all, not a hedge ("we'll see").
_WE_WILL = re.compile(
    r"(?:^|,\s*)we(?:'ll| will)\s+(?!(?:need|have|see|try|talk|discuss|decide|figure|think|look"
    r"|probably|maybe|keep|continue|get back|come back|revisit|go with|be)\b)",
    re.I,
)
_DECISION_LABEL = re.compile(
    r"^(?:the\s+)?(?:final\s+)?decision(?:\s+(?:one|two|three|four|five|\d+))?\s*:\s*", re.I
)
# A decision taken before this meeting, only mentioned in it.
_PAST = re.compile(
    r"\b(?:last|previous)\s+(?:week|month|quarter|year|time|meeting|sprint)\b"
    r"|\b(?:previously|already|earlier)\b",
    re.I,
)
_UNDECIDED = re.compile(
    r"\b(?:haven'?t|have not|hasn'?t|has not|didn'?t|did not|not yet|not)\s+(?:yet\s+)?decided\b"
    r"|\bundecided\b",
    re.I,
)
# "Yes, I'll ...", "Happy to, by Thursday": the answer of whoever was just asked.
_YES = re.compile(
    r"^(?:yes|yeah|yep|sure|okay|ok|will do|of course|happy to|absolutely|no problem|certainly)\b",
    re.I,
)
# A decision said again in the negative withdraws it ("Then scrap that, we will not book it").
_NEGATED = re.compile(r"\b(?:will not|won'?t|not going to|scrap|scratch|forget)\b", re.I)
_PROPOSAL = re.compile(
    r"^let'?s\s+(?!(?:not|leave|take|start|begin|plan|settle|discuss|talk|see|look|move on|wrap"
    r"|keep|continue|meet|get|do a|hear|go around|recap|review|brainstorm|park)\b)(?P<what>.+)$",
    re.I,
)
_AGREEMENT = re.compile(
    r"^(?:agreed|fine by me|works for me|sounds good|deal|good idea|makes sense|i agree"
    r"|yes,? let'?s|sure,? let'?s|all agreed)\b",
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
# Taking what was just asked for, without "I'll": "Leave it with me", "I'm on it".
_TAKEN = re.compile(
    r"^(?:leave (?:it|that) with me|I'?m on it|I'?ve got (?:it|this|that)|I got (?:it|this)"
    r"|I can (?:take|do|handle) (?:it|that|this))\b",
    re.I,
)
_OPEN_REQUEST = re.compile(
    r"\b(?:(?:can|could|would) (?:someone|somebody|anyone|anybody)"
    r"|(?:someone|somebody) (?:needs|has) to)\s+(?P<what>.+?)[?.!]*$",
    re.I,
)
# "Who checks the copy with legal?": a task nobody holds yet, an item once someone takes it.
_WHO_WILL = re.compile(
    r"^who(?:'s| is)? (?:will|can|wants to|is going to|going to)?\s*(?P<what>.+?)\?$", re.I
)
_YOU_REQUEST = re.compile(r"\b(?:can|could|would|will) you(?: please)?\s+(?P<what>.+?)\?*$", re.I)
_NOT_A_TASK = re.compile(r"^(?:be|have to|need to|just|probably|see|try)\b", re.I)
# "I can't this week": the speaker gives back what was just given to them.
_REFUSAL = re.compile(
    r"^(?:no[,.]?\s+)?(?:sorry[,.]?\s+)?(?:I can'?t|I cannot|I won'?t be able|not me"
    r"|I'?m (?:out|away|off|not available))\b",
    re.I,
)
# What an answer points back with instead of naming the task again.
_POINTER = re.compile(r"\b(?:it|them|that|this|these|those|one)\b|\bby then\b", re.I)
_SOON = re.compile(
    r"\b(today|tonight|tomorrow(?: morning| afternoon| evening)?"
    r"|this (?:morning|afternoon|evening))\b",
    re.I,
)
# "I'll handle catering. I'll get three quotes by Friday": the steps belong to the task.
_UMBRELLA = re.compile(
    r"^(?:handle|take care of|own|look after|deal with|sort out|organi[sz]e|run|lead|drive"
    r"|coordinate)\b",
    re.I,
)
_CUT_AT_OWN_PART = re.compile(r"\s+(?:and|but)\s+I(?:'ll| will)\b.*$", re.I)


@dataclass
class Reading:
    """What the engine knows while it reads: who is who, the notes so far, the running state."""

    said_on: date
    first_names: dict[str, str]
    draft: NotesDraft
    state: dict[str, Any] = field(default_factory=dict)

    @property
    def now(self) -> int:
        """How many utterances were read before the current one."""
        return int(self.state["utterances"])


def fresh_state(previous: dict[str, Any]) -> dict[str, Any]:
    """This module's part of the running state, copied so the caller's is left as it was."""
    return {
        "pending": previous.get("pending"),
        "proposal": previous.get("proposal"),
        "recent": list(previous.get("recent", [])),
        "previous": list(previous.get("previous", [])),
        "umbrella": None,
        "answered": None,
    }


def before_utterance(reading: Reading, utterance: Utterance, first_sentence: str) -> None:
    """What an utterance answers as a whole: an agreement to a proposal, a refusal."""
    proposal = reading.state.get("proposal")
    if proposal and reading.now - int(proposal["at"]) <= 2:
        if proposal["speaker"] != utterance.speaker and _AGREEMENT.match(first_sentence):
            said_in = [int(proposal["segment_id"]), utterance.segment_id]
            _add_decision(reading, str(proposal["text"]), said_in)
            reading.state["proposal"] = None
    elif proposal:
        reading.state["proposal"] = None
    if _REFUSAL.match(first_sentence):
        _refuse(reading, utterance)
    elif _YES.match(first_sentence):
        _accept(reading, utterance)


def after_utterance(reading: Reading, utterance: Utterance) -> None:
    """Remember the utterance for answers that point back at it."""
    reading.state["umbrella"] = None
    reading.state["answered"] = None
    said = {"speaker": utterance.speaker, "text": utterance.text, "at": reading.now}
    reading.state["previous"] = [*reading.state["previous"], said][-_PREVIOUS_KEPT:]
    window = reading.now - _TAKE_WINDOW
    reading.state["recent"] = [r for r in reading.state["recent"] if int(r["at"]) >= window][
        -_RECENT_KEPT:
    ]


def decision(
    reading: Reading, utterance: Utterance, sentence: str, *, previous: str, following: str
) -> bool:
    """Record the decision the sentence states (or the one before or after it names); found?"""
    plain = _FILLER.sub("", sentence)
    if sentence.endswith("?") or _PAST.search(sentence) or _UNDECIDED.search(sentence):
        return False
    if not (_DECISION.search(plain) or _WE_WILL.search(plain)):
        if _PROPOSAL.match(plain):
            reading.state["proposal"] = {
                "text": _decision_text(re.sub(r"^let'?s\s+", "", plain, flags=re.I)),
                "segment_id": utterance.segment_id,
                "speaker": utterance.speaker,
                "at": reading.now,
            }
        return False
    text = _decision_text(plain)
    if len(content_words(text)) < 3:
        # "We're going with that." names the last sentence; "Decided then." the next one.
        pointed = previous if _POINTER.search(plain) else following
        if not pointed or pointed.endswith("?"):
            return False
        text = _decision_text(pointed)
    if _NEGATED.search(text) and _withdraw(reading, text):
        return True
    _add_decision(reading, text, [utterance.segment_id])
    # A question this decision answers is no longer open.
    reading.state["questions"] = [
        q for q in reading.state["questions"] if similarity(q["text"], text) < SETTLED
    ]
    return True


def _decision_text(sentence: str) -> str:
    """A decision as the notes list it: without "Okay," or "Decision one:" before it."""
    text = _DECISION_LABEL.sub("", _FILLER.sub("", sentence.strip())).strip()
    text = text[:1].upper() + text[1:]
    return text if text.endswith((".", "!")) else f"{text}."


def _add_decision(reading: Reading, text: str, segment_ids: list[int]) -> None:
    """Add the decision, or give the same one said again its segments."""
    for existing in reading.draft.decisions:
        if similarity(existing.text, text) >= SAME_ITEM:
            existing.segment_ids = _union(existing.segment_ids, segment_ids)
            return
    reading.draft.decisions.append(
        DraftDecision(text=text, segment_ids=list(segment_ids), key=stable_key(text))
    )


def _withdraw(reading: Reading, text: str) -> bool:
    """Drop the decision this negative sentence takes back; was there one?"""
    decisions = reading.draft.decisions
    kept = [d for d in decisions if similarity(d.text, text) < SAME_ITEM]
    if len(kept) == len(decisions):
        return False
    reading.draft.withdrawn += [d.key for d in decisions if d not in kept and d.key]
    reading.draft.decisions = kept
    return True


def action(reading: Reading, utterance: Utterance, sentence: str) -> bool:
    """Record the action item the sentence states, confirms or takes; found?"""
    addressee, body = _addressee(reading, sentence)
    if _TAKEN.match(body):
        return _take_pending(reading, utterance)
    who = _WHO_WILL.match(body)
    if who and addressee is None:
        reading.state["pending"] = {"asked": clean(who.group("what")), "utterances": reading.now}
        return False
    first_person = _FIRST_PERSON.match(body)
    if first_person and addressee is None:
        what = clean(first_person.group("what"))
        if _TAKE_IT.match(what):
            # "I'll take that" takes what was just asked for; alone it is no task.
            return _take_pending(reading, utterance)
        if not what or _NOT_A_TASK.match(what):
            return False
        if _answered(reading, utterance, what) or _takes_request(reading, utterance, what):
            return True
        if _confirm(reading, utterance, what) or _step_of_task(reading, utterance, what):
            return True
        item = _add_action(reading, utterance, what, owner=utterance.speaker, request=False)
        if item is not None and _UMBRELLA.match(item.text):
            reading.state["umbrella"] = {"key": item.key, "segment_id": utterance.segment_id}
        return item is not None
    open_request = _OPEN_REQUEST.search(body)
    if open_request and addressee is None:
        item = _add_action(reading, utterance, open_request.group("what"), owner="", request=True)
        if item is not None:
            reading.state["pending"] = {"key": item.key, "utterances": reading.now}
        return item is not None
    if addressee is None:
        return False
    you = _YOU_REQUEST.search(body)
    what = you.group("what") if you else re.sub(r"^(?:please)\s+", "", body, flags=re.I)
    # "Zoë, what do you think?" is no task: an addressed line is one when it asks or sets a date.
    if not you and not re.match(r"^please\b", body, re.I) and not dates.DUE.search(body):
        return False
    return _add_action(reading, utterance, what, owner=addressee, request=True) is not None


def _addressee(reading: Reading, sentence: str) -> tuple[str | None, str]:
    """The full name of whoever a sentence opens by naming ("Zoë, ..."), and the rest of it."""
    match = re.match(r"^\s*([^\W\d_][\w'-]*),\s+(.+)$", sentence)
    if match and fold(match.group(1)) in reading.first_names:
        return reading.first_names[fold(match.group(1))], match.group(2)
    named = re.match(
        r"^\s*([^\W\d_][\w'-]*)\s+(?:will|is going to|needs to|has to|should)\s+(.+)$", sentence
    )
    if named and fold(named.group(1)) in reading.first_names:
        return reading.first_names[fold(named.group(1))], f"please {named.group(2)}"
    return None, sentence


def _due(said: str) -> tuple[str, str]:
    """The deadline in what was said (a deadline word, or "today"-like), and the rest."""
    due_text, what = dates.find_due(said)
    if not due_text:
        soon = _SOON.search(what)
        if soon:
            due_text = soon.group(1)
            what = (what[: soon.start()] + what[soon.end() :]).strip()
    return due_text, what


def _confirm(reading: Reading, utterance: Utterance, what: str) -> bool:
    """An answer to an item just given or asked ("I will send it by Wednesday"); taken as one?"""
    due_text, rest = _due(what)
    words = content_words(rest)
    pointing = len(words) <= 1 or (_POINTER.search(rest) is not None and len(words) <= 2)
    pointing = pointing or bool(re.search(r"\bby then\b", what, re.I))
    for entry in reversed(reading.state["recent"]):
        item = _item(reading, str(entry["key"]))
        # Only what someone else just gave or asked: a pointing answer is about that.
        if item is None or not entry.get("request"):
            continue
        if item.owner and fold(item.owner) != fold(utterance.speaker):
            continue
        if pointing or similarity(rest, item.text) >= CONFIRMS:
            _strengthen(reading, item, utterance, due_text)
            return True
    if not pointing or not words:
        return False
    asked = _antecedent(reading, utterance, words[0])
    if asked is None:
        return False
    said = f"{asked} by {due_text}" if due_text else asked
    return _add_action(reading, utterance, said, owner=utterance.speaker, request=False) is not None


def _answered(reading: Reading, utterance: Utterance, what: str) -> bool:
    """Whether this "I'll ..." repeats the request the utterance said yes to (not a new task).

    "Yes, I'll send the survey out tomorrow" repeats "could you survey the team?"; "Will do.
    I'll also tell the customers" adds a task of its own.
    """
    answered = reading.state.get("answered")
    if answered is None or answered["segment_id"] != utterance.segment_id:
        return False
    item = _item(reading, str(answered["key"]))
    if item is None:
        return False
    due_text, rest = _due(what)
    shared = set(content_words(rest)) & set(content_words(item.text))
    if not shared and not _POINTER.search(rest) and len(content_words(rest)) > 1:
        return False
    _strengthen(reading, item, utterance, due_text)
    return True


def _takes_request(reading: Reading, utterance: Utterance, what: str) -> bool:
    """ "I'll automate that" right after "someone has to ...": the speaker takes it; taken?"""
    pending = reading.state.get("pending")
    if not pending or "key" not in pending or reading.now - int(pending["utterances"]) > 1:
        return False
    if not _POINTER.search(what):
        return False
    item = _item(reading, str(pending["key"]))
    if item is None or item.owner:
        return False
    item.text = f"{item.text}: {clean(what)}"
    return _take_pending(reading, utterance)


def _step_of_task(reading: Reading, utterance: Utterance, what: str) -> bool:
    """A step the speaker adds to the task they just took on in the same breath; added?"""
    umbrella = reading.state.get("umbrella")
    if not umbrella or umbrella["segment_id"] != utterance.segment_id:
        return False
    item = _item(reading, str(umbrella["key"]))
    if item is None:
        return False
    due_text, step = _due(what)
    item.text = f"{item.text}: {clean(step)}"
    if due_text and not item.due_text:
        item.due_text, item.due_date = due_text, dates.parse_due(due_text, reading.said_on)
    return True


def _antecedent(reading: Reading, utterance: Utterance, verb: str) -> str | None:
    """What someone just asked the speaker to do with this verb ("Send me both links")."""
    for said in reversed(reading.state["previous"]):
        if said["speaker"] == utterance.speaker:
            continue
        asker = str(said["speaker"]).split()[0] if str(said["speaker"]).strip() else "them"
        for sentence in _sentences(str(said["text"])):
            words = content_words(sentence)
            if words and words[0] == verb:
                task = _CUT_AT_OWN_PART.sub("", sentence.rstrip(".!?"))
                return re.sub(r"\bme\b", asker, task, flags=re.I)
        return None
    return None


def _strengthen(reading: Reading, item: DraftAction, utterance: Utterance, due_text: str) -> None:
    """The owner said it again: the item is theirs, and a date they give is its due date."""
    item.owner = item.owner or utterance.speaker
    item.segment_ids = _union(item.segment_ids, [utterance.segment_id])
    if due_text and not item.due_text:
        item.due_text, item.due_date = due_text, dates.parse_due(due_text, reading.said_on)
    _remember(reading, item, request=False)


def _just_asked(reading: Reading, utterance: Utterance) -> DraftAction | None:
    """The item the previous utterance asked of this speaker, if it did."""
    for entry in reversed(reading.state["recent"]):
        item = _item(reading, str(entry["key"]))
        if not entry.get("request") or reading.now - int(entry["at"]) > 1 or item is None:
            continue
        if fold(item.owner) == fold(utterance.speaker):
            return item
    return None


def _accept(reading: Reading, utterance: Utterance) -> None:
    """ "Yes, I'll send the survey tomorrow": the answer confirms the request, with its date."""
    item = _just_asked(reading, utterance)
    if item is None:
        return
    due_text, _ = _due(utterance.text)
    _strengthen(reading, item, utterance, due_text)
    reading.state["answered"] = {"key": item.key, "segment_id": utterance.segment_id}


def _refuse(reading: Reading, utterance: Utterance) -> None:
    """ "I can't this week", in answer to an item just asked of the speaker: it has no owner."""
    item = _just_asked(reading, utterance)
    if item is not None:
        item.owner = ""
        item.segment_ids = _union(item.segment_ids, [utterance.segment_id])


def _add_action(
    reading: Reading, utterance: Utterance, said: str, *, owner: str, request: bool
) -> DraftAction | None:
    """Add (or reinforce) an action item from what was said; None when nothing is left of it."""
    due_text, what = _due(said)
    what = clean(what)
    if request:
        # Said to someone else: "my pull request" is the speaker's.
        first = utterance.speaker.split()[0] if utterance.speaker.strip() else "the speaker"
        what = re.sub(r"\bmy\b", f"{first}'s", what, flags=re.I)
    if len(content_words(what)) < 1:
        return None
    text = what[:1].upper() + what[1:]
    due = dates.parse_due(due_text, reading.said_on) if due_text else None
    for item in reading.draft.action_items:
        # A request nobody owns yet ("can someone ...?") is the same item whoever took it.
        same_owner = not owner or not item.owner or fold(item.owner) == fold(owner)
        if same_owner and similarity(item.text, text) >= SAME_ITEM:
            item.segment_ids = _union(item.segment_ids, [utterance.segment_id])
            item.owner = item.owner or owner
            if due_text and not item.due_text:
                item.due_text, item.due_date = due_text, due
            _remember(reading, item, request=request)
            return item
    item = DraftAction(
        text=text,
        owner=owner,
        due_text=due_text,
        due_date=due,
        segment_ids=[utterance.segment_id],
        key=stable_key(owner if not request else "", text),
    )
    reading.draft.action_items.append(item)
    _remember(reading, item, request=request)
    return item


def _remember(reading: Reading, item: DraftAction, *, request: bool) -> None:
    """The item was given or taken just now: an answer may confirm or refuse it."""
    entry = {"key": item.key, "at": reading.now, "request": request}
    recent = [r for r in reading.state["recent"] if r["key"] != item.key]
    reading.state["recent"] = [*recent, entry][-_RECENT_KEPT:]


def _item(reading: Reading, key: str) -> DraftAction | None:
    return next((a for a in reading.draft.action_items if a.key == key), None)


def _take_pending(reading: Reading, utterance: Utterance) -> bool:
    """ "I'll take it" after "can someone ...?": the speaker owns that request; taken?"""
    pending = reading.state.get("pending")
    if not pending or reading.now - int(pending["utterances"]) > _TAKE_WINDOW:
        return False
    if "asked" in pending:
        # A "who will ...?" question: the task is the speaker's from now on.
        reading.state["pending"] = None
        said = str(pending["asked"])
        return (
            _add_action(reading, utterance, said, owner=utterance.speaker, request=False)
            is not None
        )
    item = _item(reading, str(pending.get("key", "")))
    if item is None:
        return False
    # Taken again (a request said twice): whoever took it first keeps it.
    item.owner = item.owner or utterance.speaker
    item.segment_ids = _union(item.segment_ids, [utterance.segment_id])
    reading.state["pending"] = None
    _remember(reading, item, request=False)
    return True


def clean(what: str) -> str:
    """An item's wording: no trailing punctuation, filler, "myself" or dangling "and"."""
    text = re.sub(r"\s+", " ", what).strip(" ,;:-")
    text = re.sub(r"[.!?]+$", "", text).strip()
    text = re.sub(r"\s+(?:myself|yourself|ourselves)\b", "", text, flags=re.I)
    return re.sub(r"^(?:also|then|please)\s+", "", text, flags=re.I)


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in re.split(r"(?<=[.!?])\s+", text) if s.strip()]


def _union(left: list[int], right: list[int]) -> list[int]:
    """Segment ids of both, in order, once each."""
    return list(dict.fromkeys([*left, *right]))
