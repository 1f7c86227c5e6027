"""Ask this meeting: retrieve the segments that match a question, answer with citations.

Retrieval is PostgreSQL full-text search (any of the question's words, ranked), or on SQLite a
BM25 ranking in Python over the meeting's segments. With the LLM engine the model answers from
those segments only; with the extractive engine (or when the LLM fails) the answer is the
best-matching segments, said to be an extract.
"""

from __future__ import annotations

import logging
import math
import re
from collections import Counter
from dataclasses import dataclass, field

from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
from django.db import connection
from django.db.models import F, Value

from assistant.models import ActionItem, Decision, MeetingNotes, TranscriptSegment
from assistant.services import tracks
from assistant.services.notes import llm_engine
from assistant.services.notes.draft import Utterance, content_words
from assistant.services.notes.engine_choice import LLM, engine_name
from assistant.services.notes.llm_client import LlmConfig, LlmError

log = logging.getLogger(__name__)

TOP_K = 6
# The extract quotes fewer segments than the LLM reads: a reader scans them all.
EXTRACT_K = 3
MAX_QUESTION_CHARS = 500
NOT_FOUND = "The transcript does not say: nothing in this meeting matches the question."
EXTRACT = "Automatic extract (no AI model): the passages of the transcript that best match."
_CATCH_UP = re.compile(
    r"\b(?:what did i miss|catch me up|what have i missed|recap|summar(?:y|ise|ize))\b", re.I
)


@dataclass
class Citation:
    """A segment an answer rests on."""

    segment_id: int
    speaker: str
    start_ms: int
    text: str


@dataclass
class Answer:
    """An answer and the segments it cites."""

    answer: str
    citations: list[Citation] = field(default_factory=list)


@dataclass(frozen=True)
class Retrieved:
    """A question and the segments the LLM is to answer it from, best first."""

    question: str
    hits: list[Utterance]


def ask(meeting_id: int, question: str) -> Answer:
    """Answer a question about a meeting from its transcript, citing segments."""
    found = retrieve_for(meeting_id, question)
    return found if isinstance(found, Answer) else answer_with_llm(found)


def retrieve_for(meeting_id: int, question: str) -> Answer | Retrieved:
    """The database half of an answer: the answer itself when no LLM is to be asked.

    That is a catch-up, a question nothing matches, or the extract when the engine is not the
    LLM; otherwise the retrieved segments, for `answer_with_llm`.
    """
    question = question.strip()[:MAX_QUESTION_CHARS]
    if _CATCH_UP.search(question):
        return catch_up(meeting_id)
    hits = retrieve(meeting_id, question, TOP_K)
    if not hits:
        return Answer(NOT_FOUND)
    if engine_name() != LLM:
        return _extract(hits[:EXTRACT_K])
    return Retrieved(question, hits)


def answer_with_llm(found: Retrieved) -> Answer:
    """The LLM half: no database, but up to LLM_MAX_ATTEMPTS calls (keep it off request threads)."""
    try:
        in_order = sorted(found.hits, key=lambda u: u.seq)
        reply = llm_engine.ask(LlmConfig.from_settings(), found.question, in_order)
    except LlmError as exc:
        log.warning("ask: LLM failed, answering with the extract: %s", exc)
        return _extract(found.hits[:EXTRACT_K], "The language model is unreachable. " + EXTRACT)
    if not reply.found:
        return Answer(NOT_FOUND)
    by_id = {u.segment_id: u for u in found.hits}
    return Answer(reply.answer.strip(), [_cite(by_id[i]) for i in reply.segment_ids])


def catch_up(meeting_id: int) -> Answer:
    """ "What did I miss?": the notes so far, citing where the decisions and items were said."""
    notes = MeetingNotes.objects.filter(meeting_id=meeting_id).first()
    decisions = list(Decision.objects.filter(meeting_id=meeting_id))
    actions = list(ActionItem.objects.filter(meeting_id=meeting_id))
    if notes is None or not (notes.summary or decisions or actions):
        return Answer("Nothing to catch up on yet: no notes have been written for this meeting.")
    lines = [notes.summary] if notes.summary else []
    lines += [f"Decided: {d.text}" for d in decisions]
    lines += [f"To do: {a.text}" + (f" ({a.owner})" if a.owner else "") for a in actions]
    ids = [int(i) for d in decisions for i in d.segment_ids]
    ids += [int(i) for a in actions for i in a.segment_ids]
    rows = TranscriptSegment.objects.filter(meeting_id=meeting_id, pk__in=ids).order_by("seq")
    citations = [Citation(r.pk, r.speaker_name, r.start_ms, r.text) for r in rows[:TOP_K]]
    prefix = "Automatic extract. " if notes.engine == MeetingNotes.Engine.EXTRACTIVE else ""
    return Answer(prefix + "\n".join(lines), citations)


def retrieve(meeting_id: int, question: str, k: int) -> list[Utterance]:
    """The k segments that best match the question, best first."""
    words = [w for w in dict.fromkeys(content_words(question)) if re.fullmatch(r"\w+", w)]
    if not words:
        return []
    if connection.vendor == "postgresql":
        return _postgres(meeting_id, words, k)
    return _bm25(meeting_id, words, k)


def _postgres(meeting_id: int, words: list[str], k: int) -> list[Utterance]:
    """Full-text search: segments matching any question word, best ranked first."""
    # Raw tsquery syntax is safe here: each word is \w+ only, joined with OR.
    query = SearchQuery(" | ".join(words), search_type="raw", config="english")
    vector = SearchVector("text", config="english")
    rows = (
        tracks.primary_track(meeting_id)
        .annotate(rank=SearchRank(vector, query, normalization=Value(1)))
        .filter(rank__gt=0)
        .order_by(F("rank").desc(), "seq")
        .values_list("pk", "seq", "speaker_name", "start_ms", "end_ms", "text")[:k]
    )
    return [Utterance(*row) for row in rows]


def _bm25(meeting_id: int, words: list[str], k: int) -> list[Utterance]:
    """The SQLite fallback: BM25 over the meeting's segments, in Python."""
    segments = [
        Utterance(*row)
        for row in tracks.primary_track(meeting_id)
        .order_by("seq")
        .values_list("pk", "seq", "speaker_name", "start_ms", "end_ms", "text")
    ]
    docs = [Counter(content_words(s.text)) for s in segments]
    if not docs:
        return []
    average = sum(sum(d.values()) for d in docs) / len(docs) or 1.0
    frequency = Counter(w for d in docs for w in set(d))
    scored = []
    for segment, doc in zip(segments, docs, strict=True):
        length = sum(doc.values())
        score = 0.0
        for word in words:
            if doc[word]:
                idf = math.log(1 + (len(docs) - frequency[word] + 0.5) / (frequency[word] + 0.5))
                tf = doc[word] * 2.2 / (doc[word] + 1.2 * (0.25 + 0.75 * length / average))
                score += idf * tf
        if score > 0:
            scored.append((score, segment))
    scored.sort(key=lambda pair: (-pair[0], pair[1].seq))
    return [segment for _, segment in scored[:k]]


def _extract(hits: list[Utterance], label: str = EXTRACT) -> Answer:
    """The extractive answer: the matching segments themselves."""
    return Answer(label, [_cite(u) for u in hits])


def _cite(u: Utterance) -> Citation:
    """A citation of a retrieved segment."""
    return Citation(u.segment_id, u.speaker, u.start_ms, u.text)
