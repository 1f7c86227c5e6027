"""The search's SQL, per engine: matches from both transcript tracks and the chat, in tiers.

A match is in one of three tiers, ranked within each by the engine (ts_rank, bm25):
0. the meeting's primary track (services/tracks.py, in SQL: services/tracks_sql.py);
1. the chat and the slides' text: typed words, exact where speech recognition guesses (names,
   links);
2. the other track, only where the primary track does not match the same query at that
   moment (overlapping in time): the other track's words, each moment shown once.

Every value is a parameter; the SQL interpolated here is our constants and Django's compiled
subqueries only (hence the `noqa: S608`s).
"""

from __future__ import annotations

from assistant.services.tracks_sql import IS_PRIMARY, Sql, meetings

PRIMARY, CHAT, OTHER = 0, 1, 2
# How long before an other-track segment a primary one that overlaps it may start (ms): every
# segment is shorter (our utterances are cut at ASR_MAX_UTTERANCE_MS, 20 s by default). It
# bounds the range read on the (meeting, start_ms) index.
OVERLAP_REACH_MS = 120_000
CHAT_SOURCE = "chat"  # a hit's source when it is a chat message (else a Track value)
SLIDE_SOURCE = "slide"  # a hit's source when it is a slide's text (OCR), ranked with the chat


def _unconfirmed(match: str) -> str:
    """The other-track row `x` has no overlapping primary-track segment that `match`es too."""
    return f"""
        NOT EXISTS (
            SELECT 1 FROM assistant_transcriptsegment p
            WHERE p.meeting_id = x.meeting_id AND p.final AND p.source <> x.source
              AND p.start_ms > x.at_ms - {OVERLAP_REACH_MS} AND p.start_ms < x.end_ms
              AND p.end_ms > x.at_ms AND {match})
    """  # noqa: S608


def postgres(
    visible: Sql, query: str, options: str, candidates: int, limit: int, offset: int
) -> Sql:
    """Hits as (source, id, meeting_id, speaker, at_ms, tier, snippet), best first.

    `visible` is a condition on `{col}` (the meeting id column), with its parameters. Each
    kind ranks its newest `candidates` matches. to_tsquery is written out at each use, not
    shared through a CTE: with the query text bound client-side the planner then sees a
    constant and estimates how many rows match, choosing between the GIN index (rare words)
    and a newest-first scan (common ones).
    """
    rows, meeting_params = meetings()
    tsq = "to_tsquery('english', %s)"
    segments_visible = visible[0].replace("{col}", "s.meeting_id")
    chat_visible = visible[0].replace("{col}", "c.meeting_id")
    slide_visible = visible[0].replace("{col}", "d.meeting_id")
    sql = f"""
        SELECT h.source, h.id, h.meeting_id, h.speaker, h.at_ms, h.tier,
               ts_headline('english', h.text, {tsq}, %s)
        FROM (
            SELECT u.*, ts_rank(u.search_vector, {tsq}, 1) AS rank
            FROM (
                SELECT x.* FROM (
                    SELECT s.id, s.meeting_id, s.speaker_name AS speaker, s.start_ms AS at_ms,
                           s.end_ms, s.text, s.search_vector, s.source::text AS source,
                           CASE WHEN {IS_PRIMARY} THEN {PRIMARY} ELSE {OTHER} END AS tier
                    FROM assistant_transcriptsegment s
                    JOIN ({rows}) m ON m.id = s.meeting_id
                    WHERE s.search_vector @@ {tsq} AND {segments_visible} AND s.final
                    ORDER BY s.id DESC
                    LIMIT %s
                ) x
                WHERE x.tier = {PRIMARY} OR {_unconfirmed(f"p.search_vector @@ {tsq}")}
                UNION ALL
                SELECT y.* FROM (
                    SELECT c.id, c.meeting_id, c.sender_name AS speaker, c.sent_at_ms AS at_ms,
                           c.sent_at_ms AS end_ms, c.text, c.search_vector,
                           '{CHAT_SOURCE}'::text AS source, {CHAT} AS tier
                    FROM assistant_chatmessage c
                    WHERE c.search_vector @@ {tsq} AND {chat_visible}
                    ORDER BY c.id DESC
                    LIMIT %s
                ) y
                UNION ALL
                SELECT z.* FROM (
                    SELECT d.id, d.meeting_id, d.sharer_name AS speaker, d.shown_at_ms AS at_ms,
                           d.shown_at_ms AS end_ms, d.text, d.search_vector,
                           '{SLIDE_SOURCE}'::text AS source, {CHAT} AS tier
                    FROM assistant_slide d
                    WHERE d.search_vector @@ {tsq} AND {slide_visible}
                    ORDER BY d.id DESC
                    LIMIT %s
                ) z
            ) u
            ORDER BY u.tier, rank DESC, u.id DESC, u.source
            LIMIT %s OFFSET %s
        ) h
        ORDER BY h.tier, h.rank DESC, h.id DESC, h.source
    """  # noqa: S608
    params = [
        query,
        options,
        query,
        *meeting_params,
        query,
        *visible[1],
        candidates,
        query,
        query,
        *visible[1],
        candidates,
        query,
        *visible[1],
        candidates,
        limit,
        offset,
    ]
    return sql, params


def sqlite(visible: Sql, query: str, marks: tuple[str, str], limit: int, offset: int) -> Sql:
    """Hits as (source, id, meeting_id, speaker, at_ms, tier, snippet), best first (FTS5).

    `visible` is a subquery of the visible meetings' ids, with its parameters.
    """
    rows, meeting_params = meetings()
    in_fts = (
        "p.id IN (SELECT rowid FROM assistant_segment_fts WHERE assistant_segment_fts MATCH %s)"
    )
    sql = f"""
        SELECT h.source, h.id, h.meeting_id, h.speaker, h.at_ms, h.tier, h.snippet
        FROM (
            SELECT x.* FROM (
                SELECT s.id, s.meeting_id, s.speaker_name AS speaker, s.start_ms AS at_ms,
                       s.end_ms, s.source,
                       CASE WHEN {IS_PRIMARY} THEN {PRIMARY} ELSE {OTHER} END AS tier,
                       bm25(assistant_segment_fts) AS rank,
                       snippet(assistant_segment_fts, 0, %s, %s, '…', 24) AS snippet
                FROM assistant_segment_fts
                JOIN assistant_transcriptsegment s ON s.id = assistant_segment_fts.rowid
                JOIN ({rows}) m ON m.id = s.meeting_id
                WHERE assistant_segment_fts MATCH %s AND s.meeting_id IN ({visible[0]})
                  AND s.final
            ) x
            WHERE x.tier = {PRIMARY} OR {_unconfirmed(in_fts)}
            UNION ALL
            SELECT c.id, c.meeting_id, c.sender_name, c.sent_at_ms, c.sent_at_ms,
                   '{CHAT_SOURCE}', {CHAT}, bm25(assistant_chat_fts),
                   snippet(assistant_chat_fts, 0, %s, %s, '…', 24)
            FROM assistant_chat_fts
            JOIN assistant_chatmessage c ON c.id = assistant_chat_fts.rowid
            WHERE assistant_chat_fts MATCH %s AND c.meeting_id IN ({visible[0]})
            UNION ALL
            SELECT d.id, d.meeting_id, d.sharer_name, d.shown_at_ms, d.shown_at_ms,
                   '{SLIDE_SOURCE}', {CHAT}, bm25(assistant_slide_fts),
                   snippet(assistant_slide_fts, 0, %s, %s, '…', 24)
            FROM assistant_slide_fts
            JOIN assistant_slide d ON d.id = assistant_slide_fts.rowid
            WHERE assistant_slide_fts MATCH %s AND d.meeting_id IN ({visible[0]})
        ) h
        ORDER BY h.tier, h.rank, h.id DESC, h.source
        LIMIT %s OFFSET %s
    """  # noqa: S608
    params = [
        *marks,
        *meeting_params,
        query,
        *visible[1],
        query,
        *marks,
        query,
        *visible[1],
        *marks,
        query,
        *visible[1],
        limit,
        offset,
    ]
    return sql, params


def said_in_meeting_postgres(query: str) -> Sql:
    """Whether the meeting row "assistant_meeting" has a segment, chat line or slide matching."""
    meeting = '"assistant_meeting"."id"'
    tsq = "to_tsquery('english', %s)"
    return (
        f"(EXISTS (SELECT 1 FROM assistant_transcriptsegment s WHERE s.meeting_id = {meeting} "  # noqa: S608
        f"AND s.search_vector @@ {tsq}) "
        f"OR EXISTS (SELECT 1 FROM assistant_chatmessage c WHERE c.meeting_id = {meeting} "
        f"AND c.search_vector @@ {tsq}) "
        f"OR EXISTS (SELECT 1 FROM assistant_slide d WHERE d.meeting_id = {meeting} "
        f"AND d.search_vector @@ {tsq}))",
        [query, query, query],
    )


def said_in_meeting_sqlite(query: str) -> Sql:
    """The same on FTS5."""
    meeting = '"assistant_meeting"."id"'
    return (
        "(EXISTS (SELECT 1 FROM assistant_segment_fts "  # noqa: S608
        "JOIN assistant_transcriptsegment s ON s.id = assistant_segment_fts.rowid "
        f"WHERE s.meeting_id = {meeting} AND assistant_segment_fts MATCH %s) "
        "OR EXISTS (SELECT 1 FROM assistant_chat_fts "
        "JOIN assistant_chatmessage c ON c.id = assistant_chat_fts.rowid "
        f"WHERE c.meeting_id = {meeting} AND assistant_chat_fts MATCH %s) "
        "OR EXISTS (SELECT 1 FROM assistant_slide_fts "
        "JOIN assistant_slide d ON d.id = assistant_slide_fts.rowid "
        f"WHERE d.meeting_id = {meeting} AND assistant_slide_fts MATCH %s))",
        [query, query, query],
    )
