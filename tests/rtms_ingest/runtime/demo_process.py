"""The real `manage.py run_demo` as a process of its own, for the demo's tests."""

from __future__ import annotations

import http.cookiejar
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

from tests.integration.stack import ROOT, free_port


def start_demo(tmp_path: Path, **env: str) -> tuple[subprocess.Popen[str], str]:
    """run_demo on SQLite in `tmp_path` (its var folder too), `env` on top; (process, base URL).

    The demo's own Zoom secrets are invented in `tmp_path` (ZOOM_* of this environment are left
    out), and the child gets the default SIGINT back: a shell that started us in the
    background ignores SIGINT and children inherit that, where a person's terminal does not.
    """
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "ZOOM_"))}
    environ.update(
        DJANGO_SETTINGS_MODULE="assistant.settings",
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        ASSISTANT_VAR_DIR=str(tmp_path),
        REDIS_URL="",
        PYTHONUNBUFFERED="1",
        **env,
    )
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "manage.py", "run_demo", "--port", str(port)],
        cwd=ROOT,
        env=environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        preexec_fn=_default_sigint,
    )
    return process, f"http://127.0.0.1:{port}"


def meeting_row(database: Path) -> tuple[str, int | None, str] | None:
    """(state, stop_reason, last log detail) of the demo's meeting, once it exists."""
    if not database.exists():
        return None
    with sqlite3.connect(database, timeout=5) as db:
        row = db.execute("SELECT id, state, stop_reason FROM assistant_meeting").fetchone()
        if row is None:
            return None
        detail = db.execute(
            "SELECT detail FROM assistant_connectionlogentry WHERE meeting_id = ?"
            " ORDER BY id DESC LIMIT 1",
            [row[0]],
        ).fetchone()
    return row[1], row[2], detail[0] if detail else ""


def wait_for_state(database: Path, state: str, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()[0]
        try:
            row = meeting_row(database)
        except sqlite3.OperationalError:
            row = None  # not migrated yet
        if row is not None and row[0] == state:
            return
        time.sleep(0.2)
    raise AssertionError(f"the demo meeting never went {state}")


def cookie_client() -> urllib.request.OpenerDirector:
    """A client that keeps its cookies (the demo user's session)."""
    return urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
    )


def open_first_page(
    base_url: str,
    var: Path,
    process: subprocess.Popen[str],
    opener: urllib.request.OpenerDirector | None = None,
) -> None:
    """Sign in as the demo user and open the meeting list: the sample meeting starts then."""
    opener = opener or cookie_client()
    deadline = time.monotonic() + 60
    while True:
        assert process.poll() is None, process.communicate()[0]
        try:
            form = opener.open(f"{base_url}/login/", timeout=5).read().decode()
            break
        except OSError:
            assert time.monotonic() < deadline, "the demo never served its sign-in page"
            time.sleep(0.2)
    time.sleep(2)  # served (so migrated) a while: a meeting playing at start would exist by now
    assert meeting_row(var / "db.sqlite3") is None  # nothing plays before the first page
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form)
    assert token is not None
    fields = {
        "csrfmiddlewaretoken": token[1],
        "username": "demo",
        "password": (var / "demo-password").read_text().strip(),
    }
    page = opener.open(f"{base_url}/login/", urllib.parse.urlencode(fields).encode(), timeout=30)
    assert b"The sample meeting is starting" in page.read()


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)
