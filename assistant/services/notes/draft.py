"""What the notes engines read and write: plain dataclasses, no Django, no I/O."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date


@dataclass(frozen=True)
class Utterance:
    """A stored transcript segment as an engine sees it; `slide` is the title of the slide on
    screen when it was said (text read from a picture: untrusted, like what was said)."""

    segment_id: int
    seq: int
    speaker: str
    start_ms: int
    end_ms: int
    text: str
    slide: str = ""


@dataclass
class DraftDecision:
    """A decision as an engine proposes it; `key` names the row it updates, if any."""

    text: str
    segment_ids: list[int] = field(default_factory=list)
    key: str = ""


@dataclass
class DraftAction:
    """An action item as an engine proposes it; `key` names the row it updates, if any."""

    text: str
    owner: str = ""
    due_text: str = ""
    due_date: date | None = None
    segment_ids: list[int] = field(default_factory=list)
    key: str = ""


@dataclass
class DraftSectionItem:
    """A line of a template's section, with the segments it rests on."""

    text: str
    segment_ids: list[int] = field(default_factory=list)


@dataclass
class DraftSection:
    """A template's section as written: a heading, its lines, and a note (why it is empty)."""

    heading: str
    items: list[DraftSectionItem] = field(default_factory=list)
    note: str = ""

    def as_json(self) -> dict[str, object]:
        """The section as MeetingNotes.sections, the API, the live event and the export hold it."""
        return {
            "heading": self.heading,
            "items": [{"text": i.text, "segment_ids": list(i.segment_ids)} for i in self.items],
            "note": self.note,
        }

    @classmethod
    def from_json(cls, stored: object) -> DraftSection | None:
        """A stored section, or None when it is not one."""
        if not isinstance(stored, dict) or not isinstance(stored.get("heading"), str):
            return None
        items = [
            DraftSectionItem(str(i["text"]), [int(s) for s in i.get("segment_ids", [])])
            for i in stored.get("items", [])
            if isinstance(i, dict) and isinstance(i.get("text"), str)
        ]
        return cls(stored["heading"], items, str(stored.get("note", "")))


@dataclass
class NotesDraft:
    """A whole version of a meeting's notes, before it is matched to the stored rows."""

    summary: str = ""
    key_points: list[str] = field(default_factory=list)
    decisions: list[DraftDecision] = field(default_factory=list)
    action_items: list[DraftAction] = field(default_factory=list)
    open_questions: list[str] = field(default_factory=list)
    title: str = ""
    # The template's sections (none with the default template).
    sections: list[DraftSection] = field(default_factory=list)
    # The extractive engine's running state, carried from one update to the next.
    engine_state: dict[str, object] = field(default_factory=dict)
    # Keys of decisions taken back in the meeting ("scrap that"): their rows go, unless edited.
    withdrawn: list[str] = field(default_factory=list)


_WORD = re.compile(r"[\w.]+", re.UNICODE)
# The word pattern splits at apostrophes, so "I'll" reads as "i" and "ll".
_STOPWORD_TEXT = """
    a about after again all also am an and any are as at be because been before being but by
    can could did do does doing done for from had has have having he her here him his how i if in
    into is it its it's just let's me more my no not now of off okay ok on once only or our out
    over please same she should so some than that the their them then there these they this
    those to too up us very was we were what when where which while who will with would yes you
    your yeah well ll m s re ve d t don won can't got get going go"""
STOPWORDS = frozenset(_STOPWORD_TEXT.split())


def fold(text: str) -> str:
    """Lower case without accents, so "Zoë" and "Zoe" compare equal."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def content_words(text: str) -> list[str]:
    """The words that carry meaning: folded, stopwords dropped, crude plural/verb stem."""
    words = []
    for raw in _WORD.findall(fold(text)):
        word = raw.strip(".")
        if not word or word in STOPWORDS:
            continue
        if len(word) > 4 and word.endswith("es") and not word.endswith("ses"):
            word = word[:-2]
        elif len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
            word = word[:-1]
        words.append(word)
    return words


def similarity(a: str, b: str) -> float:
    """Jaccard overlap of two texts' content words (0 when either has none)."""
    left, right = set(content_words(a)), set(content_words(b))
    if not left or not right:
        return 0.0
    return len(left & right) / len(left | right)


def stable_key(*parts: str) -> str:
    """A key for a new item, from its words: the same item said the same way gets the same key."""
    basis = "|".join(" ".join(sorted(set(content_words(p)))) for p in parts)
    return hashlib.sha256(basis.encode()).hexdigest()[:32]
