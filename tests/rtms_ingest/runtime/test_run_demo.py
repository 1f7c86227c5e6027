"""`manage.py run_demo` (the embedded shape) closes its streams gracefully on SIGTERM and Ctrl-C."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from rtms_ingest.protocol import StopReason
from tests.rtms_ingest.runtime.demo_process import (
    meeting_row,
    open_first_page,
    start_demo,
    wait_for_state,
)
from tests.rtms_ingest.simulator.fixtures import write_short_meeting

pytestmark = pytest.mark.timeout(90)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["sigterm", "ctrl-c"])
def test_the_demo_closes_its_live_stream_before_it_exits(
    tmp_path: Path, signum: signal.Signals
) -> None:
    database = tmp_path / "db.sqlite3"
    meeting = write_short_meeting(tmp_path, duration_s=120.0)
    process, base = start_demo(tmp_path, DEMO_MEETING_DIR=str(meeting))
    try:
        open_first_page(base, tmp_path, process)
        wait_for_state(database, "live", process)
        process.send_signal(signum)
        output, _ = process.communicate(timeout=30)
    finally:
        process.kill()
    assert process.returncode == 0, output
    state, reason, detail = meeting_row(database) or ("", None, "")
    # Ended by us (STREAM_CLOSE_REQ answered by TERMINATED), not left live or failed.
    assert (state, reason) == ("ended", StopReason.RECEIVER_REQUEST_CLOSE), output
    assert "closed by receiver" in detail or "terminated" in detail, detail
