"""A deliberately faulty OpenAI-compatible server on loopback: it answers from a script.

Real HTTP on a real socket, so the openai client, its errors and our retries run for real; the
faults (429, 500, a hang, broken JSON, a reply outside the schema) are injected on purpose.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

VALID_NOTES = {
    "summary": "The team chose a release date.",
    "key_points": ["Release 2.4 ships on Thursday."],
    "decisions": [{"id": "", "text": "Ship 2.4 on Thursday", "segment_ids": []}],
    "action_items": [
        {
            "id": "",
            "text": "Write the release notes",
            "owner": "Tomás",
            "due": "Wednesday",
            "segment_ids": [999999],
        },
    ],
    "open_questions": [],
}


@dataclass
class Step:
    """One scripted answer: an HTTP status, a hang before answering, or a reply's content."""

    status: int = 200
    content: str = ""
    hang_s: float = 0.0


def ok(body: dict[str, Any] | None = None) -> Step:
    """A 200 whose message content is this JSON (valid notes by default)."""
    return Step(content=json.dumps(body if body is not None else VALID_NOTES))


@dataclass
class FaultyLlm:
    """The server's script and what it received."""

    script: list[Step]
    requests: list[dict[str, Any]] = field(default_factory=list)
    url: str = ""

    def next_step(self, body: dict[str, Any]) -> Step:
        """The answer to the next request (the last step repeats)."""
        self.requests.append(body)
        return self.script.pop(0) if len(self.script) > 1 else self.script[0]

    @property
    def formats(self) -> list[str]:
        """response_format type of each request received."""
        return [str(r.get("response_format", {}).get("type")) for r in self.requests]


def _handler(llm: FaultyLlm) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            step = llm.next_step(body)
            if step.hang_s:
                time.sleep(step.hang_s)
            if step.status != 200:
                self._send(step.status, {"error": {"message": f"injected {step.status}"}})
                return
            self._send(
                200,
                {
                    "id": "chatcmpl-faulty",
                    "object": "chat.completion",
                    "created": 0,
                    "model": body.get("model", "m"),
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": step.content},
                            "finish_reason": "stop",
                        }
                    ],
                    "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
                },
            )

        def _send(self, status: int, payload: dict[str, Any]) -> None:
            data = json.dumps(payload).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                if status == 429:
                    self.send_header("Retry-After", "0")
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client timed out and left: that was the point

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet."""

    return Handler


@contextmanager
def faulty_llm(*script: Step) -> Iterator[FaultyLlm]:
    """Run the server on a free loopback port for the duration of the block."""
    llm = FaultyLlm(list(script))
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(llm))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    llm.url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    try:
        yield llm
    finally:
        server.shutdown()
        server.server_close()
