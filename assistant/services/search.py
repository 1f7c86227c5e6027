"""Full-text search over the transcripts of the meetings a caller may see.

PostgreSQL: the generated `search_vector` column (english stemming) and its GIN index, ranked
by ts_rank, snippets by ts_headline. SQLite (the embedded default): the FTS5 table
`assistant_segment_fts` (porter stemming), ranked by bm25, snippets by snippet(). Both are set
up by migration 0005_library. A query is words (all must match), "quoted phrases" and -excluded
words or phrases; it is parsed here and rebuilt in each engine's syntax, so user input never
reaches either query language as is. Only the final segments of each meeting's caption track
are searched (services/tracks.py: the same rule, in SQL).
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import QuerySet

from assistant.models import Meeting

MAX_QUERY_CHARS = 300
# PostgreSQL ranks the newest this many matches: every match of all but the commonest words,
# and for a word said in a good share of all meetings, the recent ones. It bounds a search
# (p95 within 100 ms over a million segments: benchmarks/search.py).
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
    """A matching segment: where it was said, by whom, and a highlighted snippet (HTML)."""

    meeting_id: int
    segment_id: int
    speaker: str
    start_ms: int
    snippet: str


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
    """Segments of `meetings` matching the query, ranked; page numbers count from 1."""
    terms = parse(query)
    if not any(not t.negated for t in terms):
        return SearchPage([], False)
    offset = (page - 1) * size
    if connection.vendor == "postgresql":
        rows = _postgres(meetings, terms, offset, size + 1)
    else:
        rows = _sqlite(meetings, terms, offset, size + 1)
    hits = [Hit(m, s, speaker, start, highlight(snippet)) for s, m, speaker, start, snippet in rows]
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


def _visible_ids_sql(meetings: QuerySet[Meeting]) -> tuple[str, tuple[Any, ...]]:
    sql, params = meetings.order_by().values("pk").query.sql_with_params()
    return sql, tuple(params)


def _visible_condition(meetings: QuerySet[Meeting]) -> tuple[str, tuple[Any, ...]]:
    """`s.meeting_id` among the visible meetings, as PostgreSQL plans it best.

    A few meetings (a host's): their ids as an array, so the planner intersects one GIN scan
    with the meeting index; with a subquery it may instead repeat the GIN scan per meeting.
    Many (staff): the subquery, planned as a join.
    """
    ids = list(meetings.order_by().values_list("pk", flat=True)[: VISIBLE_IDS_INLINE + 1])
    if len(ids) <= VISIBLE_IDS_INLINE:
        return "s.meeting_id = ANY(%s)", (ids,)
    visible, params = _visible_ids_sql(meetings)
    return f"s.meeting_id IN ({visible})", params


# The meeting's caption track: its own choice, else the TRANSCRIPTION setting; ours for asr
# and both. Mirrors services/tracks.caption_source.
_PRIMARY = (
    "(CASE WHEN COALESCE(NULLIF(m.transcription, ''), %s) IN ('asr', 'both') "
    "THEN 'asr' ELSE 'native' END)"
)
# A meeting whose caption track is empty is read from the other one (tracks.caption_track).
_CAPTION_TRACK = f"""
    s.final AND (s.source = {_PRIMARY} OR NOT EXISTS (
        SELECT 1 FROM assistant_transcriptsegment p
        WHERE p.meeting_id = s.meeting_id AND p.final AND p.source = {_PRIMARY}))
"""  # noqa: S608 (constants only)


def _postgres(
    meetings: QuerySet[Meeting], terms: list[Term], offset: int, limit: int
) -> list[tuple[int, int, str, int, str]]:
    visible, visible_params = _visible_condition(meetings)
    options = f"StartSel={MARK_START}, StopSel={MARK_END}, MaxWords=30, MinWords=12, ShortWord=2"
    # to_tsquery is written out at each use, not shared through a CTE: with the query text
    # bound client-side the planner then sees a constant and estimates how many rows match,
    # choosing between the GIN index (rare words) and a newest-first scan (common ones).
    # Interpolated: our constants and Django's compiled subquery; every value is a parameter.
    sql = f"""
        SELECT c.id, c.meeting_id, c.speaker_name, c.start_ms,
               ts_headline('english', c.text, to_tsquery('english', %s), %s)
        FROM (
            SELECT s.id, s.meeting_id, s.speaker_name, s.start_ms, s.text,
                   ts_rank(s.search_vector, to_tsquery('english', %s), 1) AS rank
            FROM (
                SELECT s.id, s.meeting_id, s.speaker_name, s.start_ms, s.text, s.search_vector
                FROM assistant_transcriptsegment s
                JOIN assistant_meeting m ON m.id = s.meeting_id
                WHERE s.search_vector @@ to_tsquery('english', %s)
                  AND {visible}
                  AND {_CAPTION_TRACK}
                ORDER BY s.id DESC
                LIMIT %s
            ) s
            ORDER BY rank DESC, s.id DESC
            LIMIT %s OFFSET %s
        ) c
        ORDER BY c.rank DESC, c.id DESC
    """  # noqa: S608
    query, default = tsquery(terms), settings.TRANSCRIPTION
    params = (
        query,
        options,
        query,
        query,
        *visible_params,
        default,
        default,
        RANKED_CANDIDATES,
        limit,
        offset,
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


def _sqlite(
    meetings: QuerySet[Meeting], terms: list[Term], offset: int, limit: int
) -> list[tuple[int, int, str, int, str]]:
    visible, visible_params = _visible_ids_sql(meetings)
    sql = f"""
        SELECT s.id, s.meeting_id, s.speaker_name, s.start_ms,
               snippet(assistant_segment_fts, 0, %s, %s, '…', 24)
        FROM assistant_segment_fts
        JOIN assistant_transcriptsegment s ON s.id = assistant_segment_fts.rowid
        JOIN assistant_meeting m ON m.id = s.meeting_id
        WHERE assistant_segment_fts MATCH %s
          AND s.meeting_id IN ({visible})
          AND {_CAPTION_TRACK}
        ORDER BY bm25(assistant_segment_fts), s.id DESC
        LIMIT %s OFFSET %s
    """  # noqa: S608 (as in _postgres)
    default = settings.TRANSCRIPTION
    params = (
        MARK_START,
        MARK_END,
        fts5_query(terms),
        *visible_params,
        default,
        default,
        limit,
        offset,
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


def said_in_meeting(query: str) -> tuple[str, tuple[Any, ...]] | None:
    """SQL (and params): whether the meeting row "assistant_meeting" has a matching segment.

    An EXISTS per meeting, so the planner can stop at a meeting's first match (common words)
    or probe the search index once (rare ones). None when the query has no word to look for.
    """
    terms = parse(query)
    if not any(not t.negated for t in terms):
        return None
    if connection.vendor == "postgresql":
        return (
            "EXISTS (SELECT 1 FROM assistant_transcriptsegment s "
            'WHERE s.meeting_id = "assistant_meeting"."id" '
            "AND s.search_vector @@ to_tsquery('english', %s))",
            (tsquery(terms),),
        )
    return (
        "EXISTS (SELECT 1 FROM assistant_segment_fts "
        "JOIN assistant_transcriptsegment s ON s.id = assistant_segment_fts.rowid "
        'WHERE s.meeting_id = "assistant_meeting"."id" AND assistant_segment_fts MATCH %s)',
        (fts5_query(terms),),
    )
