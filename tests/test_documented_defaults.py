"""The documented defaults are the settings' defaults: `.env.example`, the README, the architecture.

The settings are loaded in a fresh interpreter with none of their variables set (REDIS_URL aside,
so that the production shape's variables are read too), and `assistant.wiring.env.declared_defaults`
gives every variable they read with its default. `.env.example` must list exactly those (plus
what only docker compose reads) with those defaults; every settings table in README.md and
docs/architecture.md must give the same default wherever it gives a literal one.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Read by docker-compose.yml only (to build URLs the app then reads), never by the settings.
COMPOSE_ONLY = {"POSTGRES_PASSWORD", "REDIS_PASSWORD"}
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}
_UNITS = {"KiB": 1024, "MiB": 1024 * 1024}

Default = Any


@pytest.fixture(scope="module")
def defaults(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Default]:
    """Every variable the settings read, with its default, from a clean environment."""
    var_dir = str(tmp_path_factory.mktemp("var"))
    environment = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path_factory.mktemp("home")),
        "DJANGO_SETTINGS_MODULE": "assistant.settings",
        "ASSISTANT_VAR_DIR": var_dir,
        "REDIS_URL": "redis://127.0.0.1:6379/15",  # parsed only, never connected to
    }
    script = (
        "import json, assistant.settings\n"
        "from assistant.wiring.env import declared_defaults\n"
        "print(json.dumps(declared_defaults()))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )
    declared: dict[str, Default] = json.loads(result.stdout)
    # Paths under the var folder are documented relative to it ("var/recordings").
    return {
        name: "var" + default.removeprefix(var_dir)
        if isinstance(default, str) and default.startswith(var_dir)
        else default
        for name, default in declared.items()
    }


def env_example() -> dict[str, tuple[str, str]]:
    """`.env.example` as {name: (value, comment)}."""
    entries: dict[str, tuple[str, str]] = {}
    for line in (ROOT / ".env.example").read_text().splitlines():
        match = re.match(r"^([A-Z][A-Z0-9_]*)=(.*)$", line)
        if match is None:
            continue
        value, _, comment = match.group(2).partition(" #")
        entries[match.group(1)] = (value.strip(), comment.strip())
    return entries


def same(written: str, default: Default) -> bool:
    """Whether a value as written in a .env file means the default."""
    if isinstance(default, bool):
        return written.lower() in (_TRUE if default else _FALSE)
    if isinstance(default, int | float):
        try:
            return float(written) == float(default)
        except ValueError:
            return False
    if isinstance(default, list):
        return [item.strip() for item in written.split(",") if item.strip()] == default
    return written == default


def test_env_example_lists_every_setting_read_and_nothing_else(
    defaults: dict[str, Default],
) -> None:
    listed = set(env_example()) - COMPOSE_ONLY
    assert sorted(set(defaults) - listed) == [], "read by the settings, missing in .env.example"
    assert sorted(listed - set(defaults)) == [], "in .env.example, read by no setting"


def test_env_example_gives_each_default(defaults: dict[str, Default]) -> None:
    wrong = []
    for name, (value, comment) in env_example().items():
        if name in COMPOSE_ONLY:
            continue
        default = defaults[name]
        if value == "":
            # Left empty: fine for an empty default; otherwise the comment must say what it is.
            if default not in ("", []) and not re.search(r"default|unset", comment):
                wrong.append(f"{name}= (empty) but the default is {default!r}")
        elif not same(value, default):
            wrong.append(f"{name}={value} but the default is {default!r}")
    assert wrong == []


def table_rows(document: Path) -> list[tuple[list[str], str]]:
    """Settings-table rows: ([names], default cell) where the first cell names settings only."""
    rows = []
    for line in document.read_text().splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if not line.startswith("| `") or len(cells) < 3:
            continue
        names = re.findall(r"`([A-Z][A-Z0-9_]+)`", cells[0])
        if names and re.fullmatch(r"(`[A-Z][A-Z0-9_]+`(, )?)+", cells[0]):
            rows.append((names, cells[1]))
    return rows


def literal(part: str) -> str | None:
    """A table cell's default as .env text, or None when the cell describes it in words."""
    part = re.sub(r"\s*\([^)]*\)$", "", part.strip())  # "0 (off)", "1048576 (1 MiB)"
    if part in ("unset", "off", "on"):
        return {"unset": "", "off": "0", "on": "1"}[part]
    sized = re.fullmatch(r"(\d+) (KiB|MiB)", part)
    if sized:
        return str(int(sized.group(1)) * _UNITS[sized.group(2)])
    if re.fullmatch(r"-?\d+(\.\d+)?", part):
        return part
    ticked = re.findall(r"`([^`]*)`", part)
    if ticked and re.fullmatch(r"(`[^`]*`(, )?)+", part):
        return ",".join(ticked)
    return None


def documented(document: Path) -> list[tuple[str, str]]:
    """(name, default as .env text) for every literal default in the document's tables."""
    found = []
    for names, cell in table_rows(document):
        parts = [cell] if len(names) == 1 else cell.split(", ")
        if len(parts) != len(names):
            if literal(cell) is None:  # described in words ("see `.env.example`")
                continue
            parts = [cell] * len(names)  # one default shared by all ("0 (off)")
        for name, part in zip(names, parts, strict=True):
            text = literal(part)
            if text is not None:
                found.append((name, text))
    return found


@pytest.mark.parametrize("document", ["README.md", "docs/architecture.md"])
def test_settings_tables_give_the_settings_defaults(
    document: str, defaults: dict[str, Default]
) -> None:
    found = documented(ROOT / document)
    wrong = [
        f"{name}: documented {text!r}, default {defaults.get(name, '(no such setting)')!r}"
        for name, text in found
        if name not in defaults
        or not (same(text, defaults[name]) or (text == "" and defaults[name] in ("", [], 0)))
    ]
    assert wrong == []
    # The tables do give literal defaults: a parser that finds none would check nothing.
    assert len(found) >= 10


def test_a_wrong_default_is_caught(defaults: dict[str, Default], tmp_path: Path) -> None:
    """The parser reads a table row as the docs wrote it once (a 50 ms admission default)."""
    document = tmp_path / "doc.md"
    document.write_text(
        "| variable | default | meaning |\n|---|---|---|\n"
        "| `RTMS_ADMIT_MAX_LOOP_LAG_MS`, `RTMS_ADMIT_MAX_CPU` | 50, 0.8 | admission |\n"
        "| `RTMS_MEDIA_BACKLOG_BYTES` | 4 MiB | backlog |\n"
        "| `RTMS_LEASE_TTL_S`, `RTMS_MAX_STREAMS` | see `.env.example` | leases |\n"
    )
    found = dict(documented(document))
    assert found == {
        "RTMS_ADMIT_MAX_LOOP_LAG_MS": "50",
        "RTMS_ADMIT_MAX_CPU": "0.8",
        "RTMS_MEDIA_BACKLOG_BYTES": str(4 * 1024 * 1024),
    }
    assert not same(found["RTMS_ADMIT_MAX_LOOP_LAG_MS"], defaults["RTMS_ADMIT_MAX_LOOP_LAG_MS"])
    assert same(found["RTMS_MEDIA_BACKLOG_BYTES"], defaults["RTMS_MEDIA_BACKLOG_BYTES"])
