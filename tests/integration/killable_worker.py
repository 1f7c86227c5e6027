"""A Celery worker as a process group of its own, which a test can SIGKILL whole (parent and pool
children), as the OOM killer or a lost host would, optionally stopped dead mid-task first."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from tests.integration.stack import ROOT, celery_worker_argv

PAUSED_APP = "tests.integration.paused_worker"


class KillableWorker:
    """One `celery worker` process group; its log in `log_dir/<name>.log`."""

    def __init__(
        self, name: str, env: dict[str, str], queues: str, log_dir: Path, pause_at: str = ""
    ) -> None:
        self.name = name
        self.log = log_dir / f"{name}.log"
        self.marker = log_dir / f"{name}.paused"
        env = env | {"PAUSE_AT": pause_at, "PAUSE_MARKER": str(self.marker)}
        argv = celery_worker_argv(queues, app=PAUSED_APP if pause_at else "assistant")
        argv += ["-n", f"{name}@%h"]
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                argv,
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def wait_until_paused(self, timeout_s: float = 60) -> str:
        """The id of the task now stopped dead at the pause point."""
        self._wait_for(lambda: self.marker.exists() and self.marker.read_text(), timeout_s)
        return self.marker.read_text()

    def wait_until_ready(self, timeout_s: float = 60) -> None:
        self._wait_for(lambda: " ready." in self._text(), timeout_s)

    def received(self) -> list[str]:
        """Ids of the tasks this worker was delivered, in order."""
        return re.findall(r"Task [\w.]+\[([0-9a-f-]+)\] received", self._text())

    def succeeded(self) -> list[str]:
        return re.findall(r"Task [\w.]+\[([0-9a-f-]+)\] succeeded", self._text())

    def kill(self) -> None:
        """SIGKILL the whole worker: no warm shutdown, nothing acknowledged or given back."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)

    def tail(self, lines: int = 40) -> str:
        return f"--- {self.name}\n" + "\n".join(self._text().splitlines()[-lines:])

    def _text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def _wait_for(self, condition: Callable[[], object], timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if condition():
                return
            if self.process.poll() is not None:
                raise AssertionError(f"worker {self.name} exited\n{self.tail()}")
            time.sleep(0.05)
        raise AssertionError(f"worker {self.name}: timed out\n{self.tail()}")
