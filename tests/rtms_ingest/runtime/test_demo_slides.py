"""`make demo`'s sample meeting shares slides and a camera: once it has finished, its page shows
the slides on the timeline, the search finds a word that is only on a slide, and the exports
carry them (issue 22 item 6). The real demo command, SQLite, the simulator and RapidOCR."""

from __future__ import annotations

import json
import sqlite3
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from tests.rtms_ingest.runtime.demo_process import cookie_client, open_first_page, start_demo

pytestmark = pytest.mark.timeout(180)


def _slides_read(database: Path) -> list[str]:
    """The titles of the demo meeting's slides once the meeting ended and all were read."""
    try:
        with sqlite3.connect(database, timeout=5) as db:
            ended = db.execute("SELECT id FROM assistant_meeting WHERE state = 'ended'").fetchone()
            if ended is None:
                return []
            rows = db.execute(
                "SELECT title, read_at FROM assistant_slide ORDER BY shown_at_ms"
            ).fetchall()
    except sqlite3.OperationalError:
        return []
    return [title for title, read_at in rows] if all(r[1] for r in rows) else []


def test_the_finished_demo_meeting_shows_its_slides_and_finds_their_words(tmp_path: Path) -> None:
    database = tmp_path / "db.sqlite3"
    # Zoom's transcript: no speech model to load for this test.
    process, base = start_demo(tmp_path, DEMO_SPEED="8", TRANSCRIPTION="native")
    try:
        opener = cookie_client()
        open_first_page(base, tmp_path, process, opener)
        deadline = time.monotonic() + 120
        titles: list[str] = []
        while not titles:
            assert process.poll() is None, process.communicate()[0]
            assert time.monotonic() < deadline, "the demo meeting's slides were never all read"
            titles = _slides_read(database)
            time.sleep(0.5)
        assert titles == ["Release 2.4 decision", "Action items", "Release 2.5 plan"]
        with sqlite3.connect(database) as db:
            (meeting_id,) = db.execute("SELECT id FROM assistant_meeting").fetchone()
            cameras = db.execute("SELECT zoom_user_id FROM assistant_participantpicture").fetchall()
        assert cameras == [(16779264,)]

        page = opener.open(f"{base}/meetings/{meeting_id}/", timeout=30).read().decode()
        pins = page[page.index('data-role="timeline-slides"') :]
        assert pins.count('class="slide-pin at-') == 3
        query = urllib.parse.urlencode({"q": "Heron"})
        found = json.loads(opener.open(f"{base}/api/search/?{query}", timeout=30).read())
        assert [r["source"] for r in found["results"]] == ["slide"]
        document = json.loads(
            opener.open(f"{base}/meetings/{meeting_id}/export.json", timeout=30).read()
        )
        assert [s["title"] for s in document["slides"]] == titles
        markdown = opener.open(f"{base}/meetings/{meeting_id}/export.md", timeout=30).read()
        assert markdown.decode().count("Slide shown: [") == 3
    finally:
        process.terminate()
        try:
            process.communicate(timeout=30)
        finally:
            process.kill()
