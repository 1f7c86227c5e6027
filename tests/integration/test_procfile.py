"""The Procfile's processes (the same as docker-compose's) start together under honcho and serve."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from rtms_ingest.protocol.webhook_signing import webhook_signature
from tests.integration.stack import ROOT, WEBHOOK_SECRET, free_port, stack_env

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(120)]
PROCFILE_REDIS_URL = "redis://127.0.0.1:6379/7"


def wait_for(condition: Any, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:  # noqa: S310 (local URL)
            return bool(response.status == 200)
    except OSError:
        return False


def url_validation(base_url: str) -> dict[str, Any]:
    raw = json.dumps({"event": "endpoint.url_validation", "payload": {"plainToken": "pt"}})
    ts = str(int(time.time()))
    request = urllib.request.Request(  # noqa: S310 (local URL)
        f"{base_url}/webhooks/zoom/",
        data=raw.encode(),
        headers={
            "content-type": "application/json",
            "x-zm-request-timestamp": ts,
            "x-zm-signature": webhook_signature(WEBHOOK_SECRET, ts, raw.encode()),
        },
    )
    with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
        return dict(json.loads(response.read()))


def test_honcho_runs_web_ingest_worker_and_beat_from_the_procfile(tmp_path: Path) -> None:
    db = settings.DATABASES["default"]
    database_url = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    port = free_port()
    env = stack_env(database_url, PROCFILE_REDIS_URL) | {"PORT": str(port), "LOG_LEVEL": "INFO"}
    log_path = tmp_path / "honcho.log"
    honcho = Path(sys.executable).parent / "honcho"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(honcho), "start"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: healthy(f"{base_url}/healthz"), 60, "the web process")
        assert url_validation(base_url)["plainToken"] == "pt"
        wait_for(lambda: "waiting for streams" in log_path.read_text(), 30, "the ingest")
        wait_for(lambda: "ready." in log_path.read_text(), 60, "the Celery worker")
        wait_for(lambda: "beat: Starting" in log_path.read_text(), 30, "Celery beat")
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
    assert "RTMS ingest stopped" in log_path.read_text(), "SIGTERM reached the ingest"
