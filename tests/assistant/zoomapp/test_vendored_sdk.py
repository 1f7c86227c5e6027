"""The vendored Zoom Apps SDK is exactly the file its manifest records, licence included."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
VENDOR = ROOT / "static" / "vendor" / "zoom-appssdk"
MANIFEST = json.loads((VENDOR / "manifest.json").read_text())


def _sri_sha512(path: Path) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(path.read_bytes()).digest()).decode()


@pytest.mark.parametrize("name", sorted(MANIFEST["files"]))
def test_vendored_file_matches_its_recorded_integrity(name: str) -> None:
    assert _sri_sha512(VENDOR / name) == MANIFEST["files"][name]


def test_manifest_pins_a_0_16_release_with_its_licence() -> None:
    assert MANIFEST["package"] == "@zoom/appssdk"
    assert re.fullmatch(r"0\.16\.\d+", MANIFEST["version"])
    assert MANIFEST["license"] == "MIT"
    assert f"{MANIFEST['version']}/LICENSE.md" in MANIFEST["files"]
    assert MANIFEST["tarball_integrity"].startswith("sha512-")


def test_panel_script_imports_the_vendored_version_and_no_cdn() -> None:
    panel_js = (ROOT / "static" / "js" / "zoomapp-panel.js").read_text()
    imports = re.findall(r'^import .* from "([^"]+)";', panel_js, re.M)
    assert imports == [f"../vendor/zoom-appssdk/{MANIFEST['version']}/sdk.es.js"]
    assert "appssdk.zoom.us" not in panel_js
    assert "callZoomApi" not in panel_js
