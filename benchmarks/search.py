"""Full-text search over a million segments, and the page of a 3-hour meeting (PostgreSQL).

Builds its own database (BENCH_DATABASE_URL, default assistant_bench_search on the local
server): the project's migrations, then meetings and segments generated inside PostgreSQL
(generate_series, no round trips) with words drawn from a Zipf-like vocabulary: the sample
meeting's words first (the most frequent), then invented ones, so common, middling and rare
words all occur as in speech. One meeting lasts three hours (2,500 segments). Every tenth
meeting (by id) has both tracks, as TRANSCRIPTION=both stores them: Zoom's, and ours saying
the same a little later (so each of our matches meets the search's check for a Zoom line
that matches at that moment); each meeting has a chat line for every 20 segments. A second
run reuses the data when the counts match (--rebuild to start over).

Measured through the real views with Django's test client (server time: URL routing, session,
access rule, SQL, JSON or template), each query once warm:
- GET /api/search/?q= for staff (every meeting) and for a host (their 100 meetings), over
  queries of common, middling and rare words, two words, and phrases;
- GET /meetings/<id>/?part=N of the 3-hour meeting (a 15-minute part, charts, notes data).

    python -m benchmarks.search [--segments 1000000] [--meetings 2000] [--rebuild]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import statistics
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlparse, urlunparse

import psycopg

BENCH_URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/assistant_bench_search"
)
os.environ["DATABASE_URL"] = BENCH_URL
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "assistant.settings")
os.environ["DJANGO_ALLOWED_HOSTS"] = "testserver"
os.environ.setdefault("LOG_LEVEL", "WARNING")

SAMPLE = (
    Path(__file__).resolve().parents[1]
    / "rtms_ingest/simulator/sample_meetings/weekly_sync/meeting.json"
)
VOCABULARY = 30_000
LONG_MEETING_SEGMENTS = 2_500
BOTH_TRACKS_EVERY = 10  # every tenth meeting has our track beside Zoom's
CHAT_EVERY = 20  # a chat line per this many segments
HOSTS = 20
SYLLABLES = ["ka", "lo", "mi", "ren", "tas", "vo", "pel", "dun", "sir", "ba", "no", "quin", "te"]


def _ensure_database() -> None:
    url = urlparse(BENCH_URL)
    admin = urlunparse(url._replace(path="/postgres"))
    name = url.path.lstrip("/")
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


def vocabulary() -> list[str]:
    """The sample meeting's words by frequency, then invented words up to VOCABULARY."""
    data = json.loads(SAMPLE.read_text())
    counts: dict[str, int] = {}
    for u in data["utterances"]:
        for word in re.findall(r"[a-z']+", u["text"].lower()):
            counts[word] = counts.get(word, 0) + 1
    words = sorted(counts, key=lambda w: -counts[w])
    rng = random.Random(7)
    seen = set(words)
    while len(words) < VOCABULARY:
        word = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4)))
        if word not in seen:
            seen.add(word)
            words.append(word)
    return words


def generate(segments: int, meetings: int) -> None:
    """Users, meetings and segments, generated in SQL."""
    from django.contrib.auth.models import User
    from django.db import connection

    User.objects.create_user("bench-staff", is_staff=True)
    for n in range(HOSTS):
        User.objects.create_user(f"bench-host-{n}")
    host_ids = list(User.objects.filter(is_staff=False).values_list("pk", flat=True))
    per_meeting = -(-(segments - LONG_MEETING_SEGMENTS) // (meetings - 1))  # rounded up
    words = vocabulary()
    with connection.cursor() as c:
        c.execute("SET maintenance_work_mem = '512MB'")
        c.execute("CREATE TEMP TABLE vocab (id int PRIMARY KEY, word text)")
        c.executemany("INSERT INTO vocab VALUES (%s, %s)", list(enumerate(words, start=1)))
        c.execute(
            """
            INSERT INTO assistant_meeting (id, product, zoom_id, rtms_stream_id, topic,
                operator_id, owner_id, state, created_at, started_at, ended_at, last_seq,
                transcription, notes_track, asr_language, legal_hold, writer_generation,
                handed_over_generation)
            SELECT g, 'meeting', 'bench-' || g, 'bench-stream-' || g, 'Bench meeting ' || g,
                '', (%s::bigint[])[1 + g %% %s], 'ended',
                now() - g * interval '1 hour', now() - g * interval '1 hour',
                now() - g * interval '1 hour' + interval '50 minutes', 0,
                CASE WHEN g %% %s = 0 THEN 'both' ELSE '' END, '', '', false, 0, 0
            FROM generate_series(1, %s) g
            """,
            [host_ids, len(host_ids), BOTH_TRACKS_EVERY, meetings],
        )
        c.execute("SELECT setval('assistant_meeting_id_seq', %s)", [meetings])
        # The GIN index is built once at the end: far faster than row by row.
        c.execute("DROP INDEX segment_search_gin")
        _insert_segments(c, 1, LONG_MEETING_SEGMENTS, 1, LONG_MEETING_SEGMENTS)
        _insert_segments(c, LONG_MEETING_SEGMENTS + 1, segments, 2, per_meeting)
        _insert_our_track(c)
        _insert_chat(c)
        c.execute(
            "CREATE INDEX segment_search_gin ON assistant_transcriptsegment "
            "USING gin (search_vector)"
        )
        c.execute("ANALYZE")


def _insert_segments(cursor: Any, first: int, last: int, first_meeting: int, per: int) -> None:
    # Each segment: 6 to 20 words, word rank log-uniform over the vocabulary (Zipf-like);
    # referencing g keeps the word subquery per row. 4.32 s per segment: 2,500 in 3 hours.
    cursor.execute(
        """
        INSERT INTO assistant_transcriptsegment (meeting_id, seq, source, speaker_user_id,
            speaker_name, start_ms, end_ms, text, language, dedupe_key, final, revision,
            created_at)
        SELECT m, n, 'native', 1000 + (g %% 5), 'Speaker ' || (g %% 5),
            (n - 1) * 4320, (n - 1) * 4320 + 4000,
            (SELECT string_agg((SELECT v.word FROM vocab v WHERE v.id = r.id), ' ')
               FROM (SELECT least(%s, floor(exp(random() * ln(%s)))::int) AS id
                     FROM generate_series(1, 6 + (g::bigint * 7919) %% 15) k) r),
            'en', 'b' || g, true, 0, now()
        FROM generate_series(%s, %s) g,
             LATERAL (SELECT %s + (g - %s) / %s AS m, 1 + (g - %s) %% %s AS n) AS placed
        """,
        [VOCABULARY, VOCABULARY, first, last, first_meeting, first, per, first, per],
    )


def _insert_our_track(cursor: Any) -> None:
    # Ours: the same words 40 ms later, in the meetings with both tracks.
    cursor.execute(
        """
        INSERT INTO assistant_transcriptsegment (meeting_id, seq, source, speaker_user_id,
            speaker_name, start_ms, end_ms, text, language, dedupe_key, final, revision,
            created_at)
        SELECT s.meeting_id, s.seq + 1000000, 'asr', s.speaker_user_id, s.speaker_name,
            s.start_ms + 40, s.end_ms + 40, s.text, 'en', 'a' || s.id, true, 0, now()
        FROM assistant_transcriptsegment s
        WHERE s.source = 'native' AND s.meeting_id %% %s = 0
        """,
        [BOTH_TRACKS_EVERY],
    )


def _insert_chat(cursor: Any) -> None:
    # A chat line of 3 to 12 words for every CHAT_EVERY segments of each meeting.
    cursor.execute(
        """
        INSERT INTO assistant_chatmessage (meeting_id, seq, sender_user_id, sender_name,
            sent_at_ms, text, dedupe_key)
        SELECT s.meeting_id, s.seq + 2000000, s.speaker_user_id, s.speaker_name, s.end_ms,
            (SELECT string_agg((SELECT v.word FROM vocab v WHERE v.id = r.id), ' ')
               FROM (SELECT least(%s, floor(exp(random() * ln(%s)))::int) AS id
                     FROM generate_series(1, 3 + (s.id * 7919) %% 10) k) r),
            'c' || s.id
        FROM assistant_transcriptsegment s
        WHERE s.source = 'native' AND s.seq %% %s = 0
        """,
        [VOCABULARY, VOCABULARY, CHAT_EVERY],
    )


def _server_version() -> str:
    from django.db import connection

    with connection.cursor() as c:
        c.execute("SHOW server_version")
        return f"PostgreSQL {c.fetchone()[0]}"


def _count() -> tuple[int, int]:
    """Zoom's segments (what --segments asks for) and meetings."""
    from assistant.models import Meeting, TranscriptSegment

    return TranscriptSegment.objects.filter(source="native").count(), Meeting.objects.count()


def _rows(table_and_condition: str) -> int:
    from django.db import connection

    with connection.cursor() as c:
        c.execute(f"SELECT count(*) FROM {table_and_condition}")  # noqa: S608 (constants)
        return int(c.fetchone()[0])


def _percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    pick = lambda q: ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]  # noqa: E731
    return {
        "n": len(ordered),
        "p50_ms": round(pick(0.50), 1),
        "p95_ms": round(pick(0.95), 1),
        "max_ms": round(ordered[-1], 1),
        "mean_ms": round(statistics.fmean(ordered), 1),
    }


def _timed_get(client: Any, url: str) -> float:
    started = time.perf_counter()
    response = client.get(url)
    elapsed = (time.perf_counter() - started) * 1000
    assert response.status_code == 200, (url, response.status_code)
    return elapsed


def queries(rng: random.Random, words: list[str], per_kind: int) -> dict[str, list[str]]:
    """Search queries by kind: word frequency ranks, two words, phrases from stored text."""
    from assistant.models import TranscriptSegment

    last = TranscriptSegment.objects.order_by("-pk").values_list("pk", flat=True).first() or 1
    picked = [rng.randint(1, last) for _ in range(per_kind)]
    texts = TranscriptSegment.objects.filter(pk__in=picked).values_list("text", flat=True)
    phrases = []
    for text in texts:
        parts = text.split()
        at = rng.randrange(len(parts) - 1)
        phrases.append(f'"{parts[at]} {parts[at + 1]}"')
    return {
        "common_word (rank 1-100)": [rng.choice(words[:100]) for _ in range(per_kind)],
        "middling_word (rank 100-3000)": [rng.choice(words[100:3000]) for _ in range(per_kind)],
        "rare_word (rank 3000+)": [rng.choice(words[3000:]) for _ in range(per_kind)],
        "two_words": [
            f"{rng.choice(words[:3000])} {rng.choice(words[:3000])}" for _ in range(per_kind)
        ],
        "phrase": phrases,
    }


def measure_search(per_kind: int) -> dict[str, Any]:
    from django.contrib.auth.models import User
    from django.test import Client

    rng = random.Random(11)
    words = vocabulary()
    kinds = queries(rng, words, per_kind)
    result: dict[str, Any] = {}
    for who in ("bench-staff", "bench-host-3"):
        client = Client()
        client.force_login(User.objects.get(username=who))
        client.get("/api/search/?q=warm")
        every: list[float] = []
        per: dict[str, Any] = {}
        for kind, qs in kinds.items():
            samples = [_timed_get(client, f"/api/search/?q={q}") for q in qs]
            per[kind] = _percentiles(samples)
            every += samples
        result["staff: every meeting" if who == "bench-staff" else "host: 100 meetings"] = {
            "all": _percentiles(every),
            "by_kind": per,
        }
    return result


def measure_page(requests: int) -> dict[str, Any]:
    from django.contrib.auth.models import User
    from django.test import Client

    from assistant.views.transcript_parts import PART_MS

    client = Client()
    client.force_login(User.objects.get(username="bench-staff"))
    parts = (LONG_MEETING_SEGMENTS * 4320) // PART_MS + 1
    client.get("/meetings/1/")
    rng = random.Random(5)
    samples = [
        _timed_get(client, f"/meetings/1/?part={rng.randint(1, parts)}") for _ in range(requests)
    ]
    first = client.get("/meetings/1/").content.decode()
    return {
        "meeting_segments": LONG_MEETING_SEGMENTS,
        "parts": parts,
        "captions_per_part": first.count('<li class="caption'),
        **_percentiles(samples),
    }


def measure_list(requests: int) -> dict[str, Any]:
    """The meetings list (staff: every meeting), plain and with each filter."""
    from django.contrib.auth.models import User
    from django.test import Client

    client = Client()
    client.force_login(User.objects.get(username="bench-staff"))
    words = vocabulary()
    rng = random.Random(3)
    variants = {
        "no filter": lambda: "/",
        "page 20": lambda: "/?page=20",
        "ended, a week": lambda: "/?status=ended&date_from=2020-01-01&date_to=2100-01-01",
        "open action items": lambda: "/?open_items=on",
        "text: rare word": lambda: f"/?q={rng.choice(words[3000:])}",
        "text: common word": lambda: f"/?q={rng.choice(words[6:100])}",
    }
    client.get("/")
    return {
        name: _percentiles([_timed_get(client, url()) for _ in range(requests)])
        for name, url in variants.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--segments", type=int, default=1_000_000)
    parser.add_argument("--meetings", type=int, default=2_000)
    parser.add_argument("--queries-per-kind", type=int, default=40)
    parser.add_argument("--page-requests", type=int, default=60)
    parser.add_argument("--list-requests", type=int, default=20)
    parser.add_argument("--rebuild", action="store_true")
    args = parser.parse_args()

    _ensure_database()
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    if args.rebuild:
        with connection.cursor() as c:
            c.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    call_command("migrate", verbosity=0)
    build_s = 0.0
    if _count() != (args.segments, args.meetings):
        with connection.cursor() as c:
            c.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
        call_command("migrate", verbosity=0)
        started = time.perf_counter()
        generate(args.segments, args.meetings)
        build_s = time.perf_counter() - started
    segments, meetings = _count()
    report = {
        "benchmark": "search",
        "database": _server_version(),
        "segments": segments,
        "our_segments": _rows("assistant_transcriptsegment WHERE source = 'asr'"),
        "chat_messages": _rows("assistant_chatmessage"),
        "meetings": meetings,
        "generated_in_s": round(build_s, 1),
        "targets": {"search_p95_ms": 100, "meeting_page_p95_ms": 200},
        "search_api": measure_search(args.queries_per_kind),
        "meeting_page_3h": measure_page(args.page_requests),
        "meeting_list_staff": measure_list(args.list_requests),
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
