"""The production shape as real processes: daphne (web) and run_ingest, on PostgreSQL and Redis.

Shared by the end-to-end tests and the caption-latency benchmark.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
CLIENT_ID = "stack-client-id"
CLIENT_SECRET = "stack-client-secret"
WEBHOOK_SECRET = "stack-webhook-secret"


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Stack:
    """Running web and ingest processes."""

    base_url: str
    ws_url: str
    env: dict[str, str]
    pids: dict[str, int] = field(default_factory=dict)  # by process name: web, ingest, worker
    log_dir: Path | None = None

    @property
    def webhook_url(self) -> str:
        return f"{self.base_url}/webhooks/zoom/"


def stack_env(database_url: str, redis_url: str) -> dict[str, str]:
    """The environment every process of the stack shares (as docker-compose gives them)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ZM_RTMS_", "PYTEST"))}
    env.update(
        DJANGO_SETTINGS_MODULE="assistant.settings",
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        ZOOM_CLIENT_ID=CLIENT_ID,
        ZOOM_CLIENT_SECRET=CLIENT_SECRET,
        ZOOM_WEBHOOK_SECRET_TOKEN=WEBHOOK_SECRET,
        HF_HUB_OFFLINE="1",
        LOG_LEVEL=os.environ.get("STACK_LOG_LEVEL", "WARNING"),
        PYTHONUNBUFFERED="1",
    )
    return env


def _wait_for_http(url: str, process: subprocess.Popen[bytes], timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"web process exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1):  # noqa: S310 (local URL)
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout_s} s")


def ingest_command(*args: str) -> list[str]:
    """The command line of one `run_ingest` process (run from ROOT with the stack's env)."""
    return [sys.executable, "manage.py", "run_ingest", *args]


def celery_worker_argv(queues: str, concurrency: int = 1, app: str = "assistant") -> list[str]:
    """A Celery worker of the stack's on these queues (as docker-compose runs one)."""
    return [
        str(Path(sys.executable).parent / "celery"),
        *("-A", app, "worker", "-Q", queues),
        *("--concurrency", str(concurrency)),
        *("--without-mingle", "--without-gossip", "--loglevel", "INFO"),
    ]


@contextmanager
def running_stack(
    database_url: str,
    redis_url: str,
    log_dir: Path,
    extra_env: dict[str, str] | None = None,
    worker_queues: str = "",
    worker_concurrency: int = 1,
    ingest_args: tuple[str, ...] = (),
    with_ingest: bool = True,
) -> Iterator[Stack]:
    """Start web and ingest (and a Celery worker on `worker_queues`); stop all on exit.

    `with_ingest=False` leaves the ingest processes to the caller (`ingest_command`).
    """
    port = free_port()
    # The socket trusts SITE_URL's origin only: the stack's own address.
    env = stack_env(database_url, redis_url) | {"SITE_URL": f"http://127.0.0.1:{port}"}
    env |= extra_env or {}
    bin_dir = Path(sys.executable).parent
    log_dir.mkdir(parents=True, exist_ok=True)
    commands = {
        "web": [
            str(bin_dir / "daphne"),
            "-b",
            "127.0.0.1",
            "-p",
            str(port),
            "assistant.asgi:application",
        ],
    }
    if with_ingest:
        commands["ingest"] = ingest_command(*ingest_args)
    if worker_queues:
        commands["worker"] = celery_worker_argv(worker_queues, worker_concurrency)
    processes: list[subprocess.Popen[bytes]] = []
    try:
        for name, argv in commands.items():
            log = (log_dir / f"{name}.log").open("wb")
            processes.append(
                subprocess.Popen(argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
            )
        base_url = f"http://127.0.0.1:{port}"
        _wait_for_http(f"{base_url}/healthz", processes[0])
        pids = {name: process.pid for name, process in zip(commands, processes, strict=True)}
        ws_url = f"ws://127.0.0.1:{port}"
        yield Stack(base_url=base_url, ws_url=ws_url, env=env, pids=pids, log_dir=log_dir)
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
