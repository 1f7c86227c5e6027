"""The production shape as real processes: daphne (web) and run_ingest, on PostgreSQL and Redis.

Shared by the end-to-end tests and the caption-latency benchmark.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

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
        # The simulator on loopback over ws://, as a user testing against it allows it.
        RTMS_ALLOWED_HOSTS="127.0.0.1",
        RTMS_ALLOW_INSECURE_WS="1",
        HF_HUB_OFFLINE="1",
        # `make test` runs the other half of the suite alongside, so the machine's two cores are
        # busy and the ingest's loop lags by more than production's 150 ms at times: it would
        # then leave new streams queued (admission, tested in tests/rtms_ingest/cluster) and a
        # test's meeting would start late. Here admission waits only for a loop that is stuck.
        RTMS_ADMIT_MAX_LOOP_LAG_MS="2000",
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


# The same processes one by one, for a harness that signals, kills and replaces them while a
# meeting plays (benchmarks/chaos.py). running_stack above stays the tests' simple way in.


# What each process logs once it is ready for work.
INGEST_READY = "waiting for streams"
WORKER_READY = " ready."


def web_command(port: int) -> list[str]:
    """daphne serving the project on 127.0.0.1:`port`."""
    daphne = str(Path(sys.executable).parent / "daphne")
    return [daphne, "-b", "127.0.0.1", "-p", str(port), "assistant.asgi:application"]


def worker_command(queues: str, concurrency: int = 1) -> list[str]:
    """A Celery worker on `queues` (comma-separated), as docker-compose runs one."""
    return [
        str(Path(sys.executable).parent / "celery"),
        *("-A", "assistant", "worker", "-Q", queues),
        *("--concurrency", str(concurrency)),
        *("--without-mingle", "--without-gossip", "--loglevel", "INFO"),
    ]


class StackProcesses:
    """Processes of the production shape, each a Popen its caller may signal or replace.

    Names are the kind and a count: web-1, ingest-1, ingest-2, worker-1 ... Each process runs
    in a session of its own (so Ctrl-C reaches only the harness, which stops them all, and a
    signal to a process group reaches a Celery worker's pool children too); its output goes
    to `<log_dir>/<name>.log`.
    """

    def __init__(self, env: dict[str, str], log_dir: Path) -> None:
        self.env = env
        self.log_dir = log_dir
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self._logs: list[BinaryIO] = []
        log_dir.mkdir(parents=True, exist_ok=True)

    def start(self, kind: str, argv: list[str]) -> tuple[str, subprocess.Popen[bytes]]:
        """Start one process of `kind`; its name and Popen."""
        number = 1 + sum(1 for name in self.processes if name.rsplit("-", 1)[0] == kind)
        name = f"{kind}-{number}"
        log = (self.log_dir / f"{name}.log").open("wb")
        self._logs.append(log)
        process = subprocess.Popen(
            argv,
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.processes[name] = process
        return name, process

    def start_web(self, port: int, timeout_s: float = 30.0) -> subprocess.Popen[bytes]:
        """daphne on `port`, once it answers /healthz."""
        _, process = self.start("web", web_command(port))
        _wait_for_http(f"http://127.0.0.1:{port}/healthz", process, timeout_s)
        return process

    def start_ingest(self, timeout_s: float = 30.0, wait: bool = True) -> subprocess.Popen[bytes]:
        """One more single-process ingest (`wait`: once it waits for streams)."""
        name, process = self.start("ingest", ingest_command())
        if wait:
            self.wait_for_log(name, INGEST_READY, timeout_s)
        return process

    def start_worker(
        self, queues: str, concurrency: int = 1, timeout_s: float = 60.0, wait: bool = True
    ) -> subprocess.Popen[bytes]:
        """One more Celery worker on `queues` (`wait`: once it says it is ready)."""
        name, process = self.start("worker", worker_command(queues, concurrency))
        if wait:
            self.wait_for_log(name, WORKER_READY, timeout_s)
        return process

    def alive(self, kind: str) -> dict[str, subprocess.Popen[bytes]]:
        """The running processes of one kind, by name."""
        return {
            name: process
            for name, process in self.processes.items()
            if name.rsplit("-", 1)[0] == kind and process.poll() is None
        }

    def name_of(self, pid: int) -> str | None:
        """The name of the process with this pid, if it is one of ours."""
        return next((name for name, p in self.processes.items() if p.pid == pid), None)

    def log_path(self, name: str) -> Path:
        return self.log_dir / f"{name}.log"

    def wait_for_log(self, name: str, text: str, timeout_s: float) -> None:
        """Wait until the process's log says `text`; RuntimeError if it exits or times out."""
        process = self.processes[name]
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if text in self.log_path(name).read_text(errors="replace"):
                return
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited with {process.returncode} before {text!r}")
            time.sleep(0.1)
        raise RuntimeError(f"{name} did not say {text!r} within {timeout_s} s")

    def kill_group(self, process: subprocess.Popen[bytes], signum: int = signal.SIGKILL) -> None:
        """Signal a process and everything in its session (a worker's pool children)."""
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signum)

    def stop_all(self, timeout_s: float = 20.0) -> None:
        """SIGTERM every process still running, wait, then SIGKILL what is left (groups too)."""
        running = [p for p in self.processes.values() if p.poll() is None]
        for process in running:
            with suppress(ProcessLookupError):
                process.terminate()
        deadline = time.monotonic() + timeout_s
        for process in running:
            with suppress(subprocess.TimeoutExpired):
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
        for process in self.processes.values():
            # Also the leftovers of a process that exited (a killed worker's orphaned children).
            self.kill_group(process)
            with suppress(subprocess.TimeoutExpired):
                process.wait(timeout=5)
        for log in self._logs:
            log.close()


@contextmanager
def stack_processes(
    database_url: str,
    redis_url: str,
    log_dir: Path,
    extra_env: dict[str, str] | None = None,
    *,
    ingests: int = 1,
    worker_queues: str = "",
    worker_concurrency: int = 1,
) -> Iterator[tuple[StackProcesses, Stack]]:
    """Web, `ingests` single-process ingests and a worker, each its own Popen; stopped on exit."""
    port = free_port()
    env = stack_env(database_url, redis_url) | {"SITE_URL": f"http://127.0.0.1:{port}"}
    env |= extra_env or {}
    processes = StackProcesses(env, log_dir)
    try:
        # Started together, waited for together: each is a Django start of a few seconds.
        for _ in range(ingests):
            processes.start_ingest(wait=False)
        if worker_queues:
            processes.start_worker(worker_queues, worker_concurrency, wait=False)
        processes.start_web(port)
        for name in processes.processes:
            if name.startswith("ingest-"):
                processes.wait_for_log(name, INGEST_READY, 60)
            elif name.startswith("worker-"):
                processes.wait_for_log(name, WORKER_READY, 60)
        pids = {name: process.pid for name, process in processes.processes.items()}
        base_url = f"http://127.0.0.1:{port}"
        stack = Stack(base_url, f"ws://127.0.0.1:{port}", env, pids=pids, log_dir=log_dir)
        yield processes, stack
    finally:
        processes.stop_all()
