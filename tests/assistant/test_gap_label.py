"""A gap reads the same in the browser's status bar (format.js) as presenters.gap_label says."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from assistant.views import presenters

FORMAT_JS = Path(__file__).resolve().parents[2] / "static" / "js" / "format.js"
WALL = 1_764_000_000_000  # a wall-clock stream time (Unix ms), as real Zoom sends

CASES: list[tuple[int | None, int | None, int | None, int]] = [
    (192_000, 194_500, 120, 0),
    (WALL + 61_000, WALL + 61_240, 12, WALL),
    (61_000, None, None, 0),
    (None, 5_000, None, 0),
    (None, None, 1, 0),
    (None, None, None, 0),
    (3_000, 3_400, 2, 0),
    (WALL, WALL + 500, 7, 0),  # wall-clock times but no caption yet: no origin to count from
]


def test_gap_label_says_where_and_how_much() -> None:
    assert presenters.gap_label(192_000, 194_500, 120, 0) == "03:12 to 03:14, 120 frames lost"
    assert presenters.gap_label(61_000, None, None, 0) == "from 01:01"
    assert presenters.gap_label(None, None, 1, 0) == "1 frame lost"
    assert presenters.gap_label(WALL, WALL + 500, 7, 0) == "7 frames lost"
    assert presenters.gap_label(None, None, None, 0) == ""


@pytest.mark.skipif(shutil.which("node") is None, reason="needs Node.js to run format.js")
def test_browser_gap_label_matches_the_server() -> None:
    script = (
        f"import {{ gapLabel }} from {json.dumps(FORMAT_JS.as_uri())};\n"
        f"const cases = {json.dumps(CASES)};\n"
        "console.log(JSON.stringify(cases.map((c) => gapLabel(...c))));\n"
    )
    node = shutil.which("node")
    assert node is not None
    out = subprocess.run(
        [node, "--input-type=module", "-e", script],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    assert json.loads(out.stdout) == [presenters.gap_label(*case) for case in CASES]
