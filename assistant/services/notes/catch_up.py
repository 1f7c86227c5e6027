"""In the meeting: "catch me up" (since I joined, or the last minutes) and "was I mentioned?".

Both read the primary track's final segments and answer with citations, like ask.py does.

- Catching up reads only the window: the extractive engine finds the decisions, action items
  and open questions said in it (its summary leads); with the LLM engine the model answers
  from the window's segments, the extract standing in when it fails. "Since I joined" is the
  latest join of the participant whose name the viewer goes by, else a time the page names
  (when it first saw the meeting), else the last CATCH_UP_DEFAULT_MINUTES.
- A mention is the viewer's first or full name said as a word by someone else (accents and
  case folded); their open action items are listed too.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass

from django.db.models import Max
from django.utils import timezone

from assistant.models import ActionItem, Meeting, Participant
from assistant.services import tracks
from assistant.services.notes import extractive, llm_engine
from assistant.services.notes.ask import Answer, Citation
from assistant.services.notes.draft import NotesDraft, Utterance, fold
from assistant.services.notes.engine_choice import LLM, engine_name
from assistant.services.notes.llm_client import LlmConfig, LlmError

log = logging.getLogger(__name__)

CATCH_UP_DEFAULT_MINUTES = 10
MAX_CATCH_UP_MINUTES = 240
MAX_NAME_CHARS = 100
# What the LLM reads of a long window: its last segments, up to about this many tokens.
CATCH_UP_TOKENS = 3000
MAX_CITATIONS = 8
MAX_MENTIONS = 20
CATCH_UP_QUESTION = (
    "Catch me up: what was decided, who is to do what, and what is still open in these "
    "segments? Answer in a few short sentences."
)
EXTRACT_LABEL = "Automatic extract (no AI model)."


@dataclass(frozen=True)
class Since:
    """Where a catch-up starts on the stream clock, and how to say it ("since you joined")."""

    start_ms: int
    said: str


def window_start(
    meeting_id: int, *, minutes: int | None, name: str = "", seen_from_ms: int | None = None
) -> Since:
    """The start of the window: the last `minutes`, else since the named viewer joined."""
    latest = _latest_ms(meeting_id)
    if minutes is not None:
        minutes = max(1, min(minutes, MAX_CATCH_UP_MINUTES))
        return Since(max(0, latest - minutes * 60_000), f"in the last {minutes} minutes")
    joined = _joined_ms(meeting_id, name) if name else None
    if joined is not None:
        return Since(joined, "since you joined")
    if seen_from_ms is not None and 0 <= seen_from_ms <= latest:
        return Since(seen_from_ms, "since you opened the meeting")
    fallback = CATCH_UP_DEFAULT_MINUTES
    return Since(max(0, latest - fallback * 60_000), f"in the last {fallback} minutes")


@dataclass(frozen=True)
class ForLlm:
    """A catch-up for the LLM to write: the window's last segments, and the extract to show
    if the model fails (made now, while the database is at hand)."""

    segments: list[Utterance]
    fallback: Answer


def catch_up(meeting_id: int, since: Since) -> Answer | ForLlm:
    """The answer from the extract, or what `answer_with_llm` needs (LLM engine)."""
    said = _window(meeting_id, since.start_ms)
    if not said:
        return Answer(f"Nothing has been said {since.said}.")
    answer = extract(meeting_id, said, since)
    if engine_name() == LLM:
        return ForLlm(_last_tokens(said, CATCH_UP_TOKENS), answer)
    return answer


def answer_with_llm(found: ForLlm) -> Answer:
    """The LLM's catch-up, citing the segments it used; the extract if it fails (no database)."""
    try:
        reply = llm_engine.ask(LlmConfig.from_settings(), CATCH_UP_QUESTION, found.segments)
    except LlmError as exc:
        log.warning("catch-up: LLM failed, answering with the extract: %s", exc)
        fallback = found.fallback
        return Answer(f"The language model is unreachable. {fallback.answer}", fallback.citations)
    by_id = {u.segment_id: u for u in found.segments}
    cited = [_cite(by_id[i]) for i in reply.segment_ids if i in by_id]
    return Answer(reply.answer.strip(), cited or found.fallback.citations)


def extract(meeting_id: int, said: Sequence[Utterance], since: Since) -> Answer:
    """The window's outcome as the extractive engine reads it, citing where each was said."""
    meeting = Meeting.objects.only("started_at", "created_at").get(pk=meeting_id)
    said_on = timezone.localdate(meeting.started_at or meeting.created_at)
    speakers = list(dict.fromkeys(u.speaker for u in said))
    notes = extractive.final(said, said_on=said_on, speakers=speakers, topic="")
    lines = [f"{EXTRACT_LABEL} What was said {since.said}:"]
    lines += _outcome_lines(notes)
    if len(lines) == 1:
        lines.append(notes.summary or "Nothing was decided or assigned.")
    return Answer("\n".join(lines), _citations(said, notes))


def _outcome_lines(notes: NotesDraft) -> list[str]:
    lines = [f"Decided: {d.text}" for d in notes.decisions]
    for item in notes.action_items:
        owner = f" ({item.owner})" if item.owner else ""
        due = f", due {item.due_text}" if item.due_text else ""
        lines.append(f"To do: {item.text}{owner}{due}")
    lines += [f"Still open: {q}" for q in notes.open_questions]
    return lines


def _citations(said: Sequence[Utterance], notes: NotesDraft) -> list[Citation]:
    """The segments the decisions and items rest on; else the window's last words."""
    cited = {i for d in notes.decisions for i in d.segment_ids}
    cited |= {i for a in notes.action_items for i in a.segment_ids}
    picked = [u for u in said if u.segment_id in cited] or list(said[-3:])
    return [_cite(u) for u in picked[:MAX_CITATIONS]]


def mentions(meeting_id: int, name: str) -> Answer:
    """Where someone else said the viewer's name, and the viewer's open action items."""
    words = _name_forms(name)
    if not words:
        return Answer("Say which name to look for.")
    pattern = re.compile(r"\b(?:" + "|".join(re.escape(w) for w in words) + r")\b")
    own = fold(name.strip())
    moments = [
        u
        for u in _window(meeting_id, 0)
        if fold(u.speaker.strip()) != own and pattern.search(fold(u.text))
    ]
    items = [
        a
        for a in ActionItem.objects.filter(meeting_id=meeting_id, done=False)
        if a.owner and _name_forms(a.owner)[-1:] == words[-1:]
    ]
    first = name.split()[0]
    if moments:
        times = "once" if len(moments) == 1 else f"{len(moments)} times"
        lines = [f"{first} was mentioned {times}."]
    else:
        lines = [f"Nobody has mentioned {first} so far."]
    lines += [
        f"Action item for {first}: {a.text}" + (f", due {a.due_text}" if a.due_text else "")
        for a in items
    ]
    return Answer("\n".join(lines), [_cite(u) for u in moments[-MAX_MENTIONS:]])


def _name_forms(name: str) -> list[str]:
    """The folded forms of a name to look for: the full name and the first name (2+ letters)."""
    full = " ".join(fold(name).split())[:MAX_NAME_CHARS]
    first = full.split()[0] if full else ""
    if len(re.sub(r"\W", "", first)) < 2:
        return []
    return [full, first] if full != first else [first]


def _window(meeting_id: int, start_ms: int) -> list[Utterance]:
    """The primary track's final segments that end after `start_ms`, in order."""
    rows = (
        tracks.primary_track(meeting_id)
        .filter(end_ms__gt=start_ms)
        .order_by("start_ms", "seq")
        .values_list("pk", "seq", "speaker_name", "start_ms", "end_ms", "text")
    )
    return [Utterance(*row) for row in rows]


def _latest_ms(meeting_id: int) -> int:
    """The stream clock's latest time the primary track reached."""
    latest = tracks.primary_track(meeting_id).aggregate(end=Max("end_ms"))["end"]
    return int(latest or 0)


def _joined_ms(meeting_id: int, name: str) -> int | None:
    """When the participant going by this name last joined, if one did."""
    wanted = fold(" ".join(name.split()))
    joins = [
        int(p.joined_at_ms)
        for p in Participant.objects.filter(meeting_id=meeting_id, joined_at_ms__isnull=False)
        if p.joined_at_ms is not None and fold(" ".join(p.name.split())) == wanted
    ]
    return max(joins) if joins else None


def _last_tokens(said: Sequence[Utterance], budget: int) -> list[Utterance]:
    """The window's last segments whose text fits the token budget (at least one)."""
    kept: list[Utterance] = []
    used = 0
    for u in reversed(said):
        used += llm_engine.approx_tokens(u.text) + 8
        if kept and used > budget:
            break
        kept.append(u)
    return kept[::-1]


def _cite(u: Utterance) -> Citation:
    return Citation(u.segment_id, u.speaker, u.start_ms, u.text)
