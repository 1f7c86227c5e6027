"""Dependencies point one way: checked in fresh interpreters, where nothing was imported before."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DJANGO_FREE = (
    "rtms_ingest.audio",
    "rtms_ingest.protocol",
    "rtms_ingest.client",
    "rtms_ingest.cluster",
    "rtms_ingest.simulator",
)


def _modules_of(package: str) -> list[str]:
    folder = ROOT / package.replace(".", "/")
    return sorted(
        ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        for path in folder.rglob("*.py")
    )


def _run(code: str, **env: str) -> dict[str, object]:
    """Run `code` in a new interpreter at the repository root; it prints one JSON object."""
    clean = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"} | env
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=clean, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    loaded: dict[str, object] = json.loads(result.stdout.strip().splitlines()[-1])
    return loaded


def test_protocol_client_cluster_and_simulator_import_without_django() -> None:
    modules = [m for package in DJANGO_FREE for m in _modules_of(package)]
    assert "rtms_ingest.client.stream" in modules and "rtms_ingest.simulator.server" in modules
    loaded = _run(
        "import importlib, json, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    )
    assert "django" not in loaded
    assert "assistant" not in loaded
    assert "channels" not in loaded


def test_rendering_a_page_loads_no_simulator_code(tmp_path: Path) -> None:
    loaded = _run(
        "import json, sys, django\n"
        "django.setup()\n"
        "from django.core.management import call_command\n"
        "call_command('migrate', verbosity=0)\n"
        "from django.contrib.auth.models import User\n"
        "from django.test import Client\n"
        "from django.test.utils import setup_test_environment\n"
        "setup_test_environment()\n"
        "client = Client()\n"
        "client.force_login(User.objects.create(username='staff', is_staff=True))\n"
        "page = client.get('/')\n"
        "assert page.status_code == 200 and b'Play sample meeting' in page.content\n"
        "import assistant.asgi\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('rtms_ingest'))))",
        DJANGO_SETTINGS_MODULE="assistant.settings",
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        ASSISTANT_VAR_DIR=str(tmp_path),
        REDIS_URL="",
        DEMO_SIMULATOR="1",
    )
    assert "rtms_ingest.runtime.demo_views" in loaded  # the play button's view is routed
    assert not [m for m in loaded if m.startswith("rtms_ingest.simulator")]
