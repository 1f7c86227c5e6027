"""`make demo`'s sample meeting shares slides and a camera: once it has finished, its page shows
the slides on the timeline, the search finds a word that is only on a slide, and the exports
carry them (issue 22 item 6). The real demo command, SQLite, the simulator and RapidOCR."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from tests.integration.stack import ROOT, free_port
from tests.rtms_ingest.runtime.test_run_demo import _open_first_page, _opener

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
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "ZOOM_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="assistant.settings",
        DATABASE_URL=f"sqlite:///{database}",
        ASSISTANT_VAR_DIR=str(tmp_path),
        REDIS_URL="",
        DEMO_SPEED="8",
        TRANSCRIPTION="native",  # Zoom's transcript: no speech model to load for this test
        PYTHONUNBUFFERED="1",
    )
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        [sys.executable, "manage.py", "run_demo", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        opener = _opener()
        _open_first_page(base, tmp_path, process, opener)
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
