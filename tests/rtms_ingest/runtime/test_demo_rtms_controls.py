"""In `make demo` the host pauses, resumes and stops the sample meeting's RTMS from its page.

The demo's simulator is its whole Zoom: the meeting page's controls call Zoom's REST API on it
with the demo host's kept Zoom sign-in, and the stream answers as Zoom's would.
"""

from __future__ import annotations

import re
import sqlite3
import time
import urllib.parse
from pathlib import Path

import pytest

from rtms_ingest.protocol import StopReason
from tests.rtms_ingest.runtime.demo_process import (
    cookie_client,
    open_first_page,
    start_demo,
    wait_for_state,
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
    meeting = write_short_meeting(tmp_path, duration_s=120.0)
    process, base = start_demo(tmp_path, DEMO_MEETING_DIR=str(meeting))
    opener = cookie_client()
    try:
        open_first_page(base, tmp_path, process, opener)
        wait_for_state(database, "live", process)
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
