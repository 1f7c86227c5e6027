"""The image's build context, computed from .dockerignore as Docker does, holds no secrets."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from docker.utils.build import exclude_paths

ROOT = Path(__file__).resolve().parent.parent
WHAT_THE_IMAGE_NEEDS = [
    "Dockerfile",
    "manage.py",
    "requirements.txt",
    "assistant/asgi.py",
    "assistant/settings.py",
    "assistant/migrations/0001_initial.py",
    "rtms_ingest/management/commands/run_ingest.py",
    "templates/base.html",
    "static/js/dom.js",
]
NEVER_IN_THE_IMAGE = [
    ".env",
    ".env.production",
    ".env.example",
    "assistant/.env",
    "rtms_ingest/simulator/.env.local",
    "var/secret-key",
    "var/db.sqlite3",
    "var/recordings/12/zoom-user-1.wav",
    "recordings/12/zoom-user-1.wav",
    "db.sqlite3",
    "assistant/db.sqlite3",
    "assistant/db.sqlite3-journal",
    ".git/config",
    ".git/objects/ab/cdef",
    ".venv/bin/python",
    "venv/lib/site.py",
    "assistant/__pycache__/settings.cpython-311.pyc",
    "rtms_ingest/__pycache__/x.pyc",
    "node_modules/left-pad/index.js",
    "static/node_modules/left-pad/index.js",
    "static/server.key",
    "assistant/tls.pem",
    "logs/web.log",
    ".pytest_cache/v/cache/lastfailed",
    "tests/conftest.py",
    "docker-compose.yml",
    "notes-for-me.txt",
]


def build_context(root: Path) -> set[str]:
    """Every file Docker would send as the build context of `root` (paths relative to it)."""
    ignore = root / ".dockerignore"
    patterns = ignore.read_text().splitlines() if ignore.exists() else []  # none: all is sent
    return {path for path in exclude_paths(str(root), patterns) if (root / path).is_file()}


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A checkout with the repository's .dockerignore, everything the image needs, and the
    things a developer's or a server's checkout accumulates."""
    if (ROOT / ".dockerignore").exists():
        shutil.copy(ROOT / ".dockerignore", tmp_path / ".dockerignore")
    for name in [*WHAT_THE_IMAGE_NEEDS, *NEVER_IN_THE_IMAGE]:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x")
    return tmp_path


@pytest.mark.parametrize("name", NEVER_IN_THE_IMAGE)
def test_secrets_data_and_caches_stay_out_of_the_build_context(checkout: Path, name: str) -> None:
    assert name not in build_context(checkout)


@pytest.mark.parametrize("name", WHAT_THE_IMAGE_NEEDS)
def test_what_the_image_runs_is_in_the_build_context(checkout: Path, name: str) -> None:
    assert name in build_context(checkout)


def test_every_source_file_of_the_app_reaches_the_image() -> None:
    # This checkout's own context: all code, templates and static files, nothing else at the top.
    context = build_context(ROOT)
    for package in ("assistant", "rtms_ingest", "templates", "static"):
        shipped = {
            str(path.relative_to(ROOT))
            for path in (ROOT / package).rglob("*")
            if path.is_file() and "__pycache__" not in path.parts
        }
        assert shipped <= context, sorted(shipped - context)[:5]
    assert {path.split("/")[0] for path in context} <= {
        ".dockerignore",
        "Dockerfile",
        "manage.py",
        "requirements.txt",
        "assistant",
        "rtms_ingest",
        "templates",
        "static",
    }
