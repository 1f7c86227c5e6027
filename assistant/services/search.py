"""Full-text search over the transcripts, chat and slides of the meetings a caller may see.

PostgreSQL: generated `search_vector` columns (english stemming) with GIN indexes, ranked by
ts_rank, snippets by ts_headline. SQLite (the embedded default): the FTS5 tables
`assistant_segment_fts` and `assistant_chat_fts` (porter stemming), ranked by bm25, snippets by
snippet(). Set up by migrations 0005_library (segments), 0012_primary_track (chat) and
0019_slides (the text OCR read on slides: `assistant_slide_fts`). A query
is words (all must match), "quoted phrases" and -excluded words or phrases; it is parsed here
and rebuilt in each engine's syntax, so user input never reaches either query language as is.

Final segments of both tracks are searched and the chat too; each hit says where it is from,
and hits of each meeting's primary track rank first (services/search_sql.py says how).
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import QuerySet

from assistant.models import Meeting
from assistant.services import search_sql, tracks_sql
from assistant.services.search_sql import CHAT_SOURCE, SLIDE_SOURCE

MAX_QUERY_CHARS = 300
# PostgreSQL ranks the newest this many matches of the transcript (and as many of the chat):
# every match of all but the commonest words, and for a word said in a good share of all
# meetings, the recent ones. It bounds a search (p95 within 100 ms over a million segments:
# benchmarks/search.py).
RANKED_CANDIDATES = 5000
VISIBLE_IDS_INLINE = 1000
MAX_TERMS = 12
# Highlight markers inside snippets: private-use characters no transcript contains, turned
# into <mark> after the snippet text is HTML-escaped.
MARK_START, MARK_END = "\ue000", "\ue001"
_CHUNK = re.compile(r'(-?)"([^"]*)"?|(-?)([^\s"]+)')
_WORD = re.compile(r"[^\W_]+")


@dataclass(frozen=True)
class Term:
    """One word or phrase of a query; `negated` for one that must not occur."""

    words: tuple[str, ...]
    negated: bool = False


@dataclass(frozen=True)
class Hit:
    """A match: where it was said (or typed), by whom, from which track or the chat, and a
    highlighted snippet (HTML)."""

    meeting_id: int
    source: str  # a Track value, CHAT_SOURCE or SLIDE_SOURCE
    item_id: int  # the segment's id, the chat message's or the slide's
    speaker: str
    start_ms: int  # stream clock: when it was said, or sent
    snippet: str
    primary: bool  # from the meeting's primary track

    @property
    def segment_id(self) -> int | None:
        """The matching segment's id; None for a chat message or a slide."""
        return None if self.source in (CHAT_SOURCE, SLIDE_SOURCE) else self.item_id

    @property
    def slide_id(self) -> int | None:
        """The matching slide's id; None for anything else."""
        return self.item_id if self.source == SLIDE_SOURCE else None

    @property
    def chat_id(self) -> int | None:
        """The matching chat message's id; None for a segment."""
        return self.item_id if self.source == CHAT_SOURCE else None


@dataclass(frozen=True)
class SearchPage:
    """One page of hits, best first, and whether another page follows."""

    hits: list[Hit]
    has_next: bool


def parse(query: str) -> list[Term]:
    """Words, "phrases" and -exclusions of a query; punctuation is dropped, case folded."""
    terms: list[Term] = []
    for match in _CHUNK.finditer(query[:MAX_QUERY_CHARS]):
        negated = bool(match.group(1) or match.group(3))
        text = match.group(2) if match.group(2) is not None else match.group(4)
        words = tuple(w.lower() for w in _WORD.findall(text or ""))
        if words and len(terms) < MAX_TERMS:
            terms.append(Term(words, negated))
    return terms


def search(meetings: QuerySet[Meeting], query: str, *, page: int, size: int) -> SearchPage:
    """Segments and chat of `meetings` matching the query, ranked; pages count from 1."""
    terms = parse(query)
    if not any(not t.negated for t in terms):
        return SearchPage([], False)
    offset = (page - 1) * size
    if connection.vendor == "postgresql":
        options = (
            f"StartSel={MARK_START}, StopSel={MARK_END}, MaxWords=30, MinWords=12, ShortWord=2"
        )
        sql, params = search_sql.postgres(
            _visible_condition(meetings),
            tsquery(terms),
            options,
            RANKED_CANDIDATES,
            size + 1,
            offset,
        )
    else:
        marks = (MARK_START, MARK_END)
        sql, params = search_sql.sqlite(
            _visible_ids_sql(meetings), fts5_query(terms), marks, size + 1, offset
        )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    hits = [
        Hit(
            meeting_id=meeting_id,
            source=source,
            item_id=item_id,
            speaker=speaker,
            start_ms=at_ms,
            snippet=highlight(snippet),
            primary=tier == search_sql.PRIMARY,
        )
        for source, item_id, meeting_id, speaker, at_ms, tier, snippet in rows
    ]
    return SearchPage(hits[:size], len(hits) > size)


def highlight(snippet: str) -> str:
    """The engine's snippet as safe HTML: text escaped, matches in <mark>."""
    escaped = html.escape(snippet, quote=False)
    return escaped.replace(MARK_START, "<mark>").replace(MARK_END, "</mark>")


def tsquery(terms: list[Term]) -> str:
    """The terms as a PostgreSQL to_tsquery string (each word is letters and digits only)."""
    parts = []
    for term in terms:
        expr = " <-> ".join(term.words)
        expr = f"({expr})" if len(term.words) > 1 else expr
        parts.append(f"!{expr}" if term.negated else expr)
    return " & ".join(parts)


def fts5_query(terms: list[Term]) -> str:
    """The terms as an FTS5 MATCH string: quoted words and phrases, exclusions after NOT."""
    positive = " ".join(f'"{" ".join(t.words)}"' for t in terms if not t.negated)
    negative = "".join(f' NOT "{" ".join(t.words)}"' for t in terms if t.negated)
    return positive + negative


def _visible_ids_sql(meetings: QuerySet[Meeting]) -> tracks_sql.Sql:
    sql, params = meetings.order_by().values("pk").query.sql_with_params()
    return sql, list(params)


def _visible_condition(meetings: QuerySet[Meeting]) -> tracks_sql.Sql:
    """`{col}` (a meeting id column) among the visible meetings, as PostgreSQL plans it best.

    A few meetings (a host's): their ids as an array, so the planner intersects one GIN scan
    with the meeting index; with a subquery it may instead repeat the GIN scan per meeting.
    Many (staff): the subquery, planned as a join.
    """
    ids = list(meetings.order_by().values_list("pk", flat=True)[: VISIBLE_IDS_INLINE + 1])
    if len(ids) <= VISIBLE_IDS_INLINE:
        return "{col} = ANY(%s)", [ids]
    visible, params = _visible_ids_sql(meetings)
    return f"{{col}} IN ({visible})", params


def said_in_meeting(query: str) -> tuple[str, tuple[Any, ...]] | None:
    """SQL (and params): whether the meeting row "assistant_meeting" has a matching segment
    (of either track), chat message or slide.

    EXISTS per meeting, so the planner can stop at a meeting's first match (common words) or
    probe the search index once (rare ones). None when the query has no word to look for.
    """
    terms = parse(query)
    if not any(not t.negated for t in terms):
        return None
    if connection.vendor == "postgresql":
        sql, params = search_sql.said_in_meeting_postgres(tsquery(terms))
    else:
        sql, params = search_sql.said_in_meeting_sqlite(fts5_query(terms))
    return sql, tuple(params)
