"""`manage.py run_demo` (the embedded shape) closes its streams gracefully on SIGTERM and Ctrl-C."""

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

import pytest

from rtms_ingest.protocol import StopReason
from tests.integration.stack import ROOT, free_port
from tests.rtms_ingest.simulator.fixtures import write_short_meeting

pytestmark = pytest.mark.timeout(90)


def _meeting_row(database: Path) -> tuple[str, int | None, str] | None:
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


def _wait_for_state(database: Path, state: str, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()[0]
        try:
            row = _meeting_row(database)
        except sqlite3.OperationalError:
            row = None  # not migrated yet
        if row is not None and row[0] == state:
            return
        time.sleep(0.2)
    raise AssertionError(f"the demo meeting never went {state}")


def _opener() -> urllib.request.OpenerDirector:
    """A client that keeps its cookies (the demo user's session)."""
    return urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
    )


def _open_first_page(
    base_url: str,
    var: Path,
    process: subprocess.Popen[str],
    opener: urllib.request.OpenerDirector | None = None,
) -> None:
    """Sign in as the demo user and open the meeting list: the sample meeting starts then."""
    opener = opener or _opener()
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
    assert _meeting_row(var / "db.sqlite3") is None  # nothing plays before the first page
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


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["sigterm", "ctrl-c"])
def test_the_demo_closes_its_live_stream_before_it_exits(
    tmp_path: Path, signum: signal.Signals
) -> None:
    database = tmp_path / "db.sqlite3"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "ZOOM_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="assistant.settings",
        DATABASE_URL=f"sqlite:///{database}",
        ASSISTANT_VAR_DIR=str(tmp_path),
        REDIS_URL="",
        DEMO_MEETING_DIR=str(write_short_meeting(tmp_path, duration_s=120.0)),
        PYTHONUNBUFFERED="1",
    )
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "manage.py", "run_demo", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        # A shell that started us in the background ignores SIGINT, and children inherit that;
        # a person's terminal does not, so the child gets the default disposition back.
        preexec_fn=_default_sigint,
    )
    try:
        _open_first_page(f"http://127.0.0.1:{port}", tmp_path, process)
        _wait_for_state(database, "live", process)
        process.send_signal(signum)
        output, _ = process.communicate(timeout=30)
    finally:
        process.kill()
    assert process.returncode == 0, output
    state, reason, detail = _meeting_row(database) or ("", None, "")
    # Ended by us (STREAM_CLOSE_REQ answered by TERMINATED), not left live or failed.
    assert (state, reason) == ("ended", StopReason.RECEIVER_REQUEST_CLOSE), output
    assert "closed by receiver" in detail or "terminated" in detail, detail
