"""A redis-server of a test's own, on a spare port, that the test may kill and start again.

The machine's shared Redis is never touched: faults are injected into this one. It runs as
docker-compose runs Redis (append-only file, fsync every second), with its data in a folder of
the test's, so a restart on the same port and folder comes back with what was written.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import redis

from tests.integration.stack import free_port

# As docker-compose.yml runs Redis (tests/test_deployment.py checks that they agree).
PERSISTENCE = ("--appendonly", "yes", "--appendfsync", "everysec", "--save", "")


class OwnRedis:
    """One redis-server process on a fixed port and data folder; killed and restarted at will."""

    def __init__(self, data_dir: Path, port: int | None = None) -> None:
        self.data_dir = data_dir
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None
        data_dir.mkdir(parents=True, exist_ok=True)

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self, timeout_s: float = 10.0) -> None:
        """Start the server (again) on the same port and folder; returns once it answers."""
        argv = [
            "redis-server",
            *("--port", str(self.port), "--bind", "127.0.0.1"),
            *("--dir", str(self.data_dir), *PERSISTENCE),
            *("--logfile", str(self.data_dir / "redis.log")),
        ]
        self.process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout_s
        client = redis.Redis.from_url(self.url(), socket_timeout=1)
        try:
            while time.monotonic() < deadline:
                try:
                    if client.ping():
                        return
                except redis.exceptions.RedisError:
                    if self.process.poll() is not None:
                        raise RuntimeError(f"redis-server exited: {self.log_tail()}") from None
                    time.sleep(0.05)
        finally:
            client.close()
        raise RuntimeError(f"redis-server on {self.port} did not answer: {self.log_tail()}")

    def kill(self) -> None:
        """SIGKILL the server, as the OOM killer or a lost host would (no shutdown, no save)."""
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        self.process = None

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.process = None

    def log_tail(self, lines: int = 20) -> str:
        log = self.data_dir / "redis.log"
        if not log.exists():
            return ""
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


@contextmanager
def own_redis(data_dir: Path) -> Iterator[OwnRedis]:
    """A started OwnRedis, stopped on exit."""
    server = OwnRedis(data_dir)
    server.start()
    try:
        yield server
    finally:
        server.stop()
