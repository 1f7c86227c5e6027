"""In `make demo` the host pauses, resumes and stops the sample meeting's RTMS from its page.

The demo's simulator is its whole Zoom: the meeting page's controls call Zoom's REST API on it
with the demo host's kept Zoom sign-in, and the stream answers as Zoom's would.
"""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

import pytest

from rtms_ingest.protocol import StopReason
from tests.integration.stack import ROOT, free_port
from tests.rtms_ingest.runtime.test_run_demo import (
    _default_sigint,
    _open_first_page,
    _opener,
    _wait_for_state,
)
from tests.rtms_ingest.simulator.fixtures import write_short_meeting

pytestmark = pytest.mark.timeout(120)


def _meeting(database: Path) -> tuple[int, str, int | None, str]:
    """(id, state, stop_reason, last log detail) of the demo's meeting."""
    with sqlite3.connect(database, timeout=5) as db:
        meeting_id, state, reason = db.execute(
            "SELECT id, state, stop_reason FROM assistant_meeting"
        ).fetchone()
        detail = db.execute(
            "SELECT detail FROM assistant_connectionlogentry WHERE meeting_id = ?"
            " ORDER BY id DESC LIMIT 1",
            [meeting_id],
        ).fetchone()
    return meeting_id, state, reason, detail[0] if detail else ""


def _until(what: str, check: object, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_the_demo_host_pauses_resumes_and_stops_the_stream_from_the_meeting_page(
    tmp_path: Path,
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
    base = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        [sys.executable, "manage.py", "run_demo", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        preexec_fn=_default_sigint,
    )
    opener = _opener()
    try:
        _open_first_page(base, tmp_path, process, opener)
        _wait_for_state(database, "live", process)
        meeting_id = _meeting(database)[0]

        def act(action: str) -> str:
            page = opener.open(f"{base}/meetings/{meeting_id}/", timeout=30).read().decode()
            token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
            assert token is not None and f'value="{action}"' in page, page
            form = urllib.parse.urlencode({"csrfmiddlewaretoken": token[1], "action": action})
            return opener.open(f"{base}/meetings/{meeting_id}/rtms/", form.encode(), timeout=30)\
                .read().decode()  # fmt: skip

        assert "Paused: nothing is captured" in act("pause")
        _until("the session paused", lambda: _meeting(database)[3].endswith("paused"))
        assert "Resumed" in act("resume")
        _until("the session resumed", lambda: not _meeting(database)[3].endswith("paused"))
        assert "Stopped" in act("stop")
        _until("the meeting ended", lambda: _meeting(database)[1] == "ended")
        process.terminate()
        output, _ = process.communicate(timeout=30)
    finally:
        process.kill()
    assert process.returncode == 0, output
    assert _meeting(database)[2] == StopReason.MANUAL_API_TRIGGERED, output
    assert "sim-access-" not in output and "sim-refresh-" not in output  # no token in the logs
