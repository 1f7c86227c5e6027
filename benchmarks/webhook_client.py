"""The webhook benchmark's load generator: pre-signed requests, a Protocol per connection.

A cell (one event at one concurrency) runs in `processes` spawned processes that share its
connections. Each process opens its connections and signs its requests first, then all start
together and keep every connection busy (one request in flight each) for `seconds`.
"""

from __future__ import annotations

import asyncio
import gc
import itertools
import json
import math
import multiprocessing
import os
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from queue import Empty
from typing import Any

from rtms_ingest.protocol.webhook_signing import webhook_signature

__all__ = ["LoadCell", "Outcome", "run_cell"]

PATH = "/webhooks/zoom/"
# url_validation is answered the same for a repeated body (nothing is deduplicated), so a small
# pool is cycled; every rtms_started must be a new stream, so enough are signed for this rate
# (per cell, all processes together) and any beyond are signed while timing (and counted).
URL_VALIDATION_POOL = 512
RTMS_STARTED_RATE_BOUND = 3000


@dataclass(frozen=True)
class LoadCell:
    """One cell of the benchmark: an event at a concurrency for some seconds."""

    port: int
    secret: str
    event: str
    concurrency: int
    seconds: float
    processes: int = 1


@dataclass
class Outcome:
    """Every request's latency (ms), the answers that were not 2xx, and the time taken."""

    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0
    elapsed_s: float = 0.0
    signed_while_timing: int = 0


def run_cell(cell: LoadCell) -> Outcome:
    """Run one cell in `cell.processes` processes; their latencies merged."""
    context = multiprocessing.get_context("spawn")
    ready = context.Queue()
    results = context.Queue()
    go = context.Event()
    shares = _shares(cell.concurrency, cell.processes)
    workers = [
        context.Process(target=_process_main, args=(cell, index, share, ready, go, results))
        for index, share in enumerate(shares)
    ]
    for worker in workers:
        worker.start()
    try:
        for _ in workers:
            _get(ready, workers, 60)
        go.set()
        outcome = Outcome()
        for _ in workers:
            part: Outcome = _get(results, workers, cell.seconds + 60)
            outcome.latencies_ms += part.latencies_ms
            outcome.errors += part.errors
            outcome.signed_while_timing += part.signed_while_timing
            outcome.elapsed_s = max(outcome.elapsed_s, part.elapsed_s)
        return outcome
    finally:
        for worker in workers:
            worker.join(10)
            if worker.is_alive():
                worker.kill()


def _get(queue: Any, workers: list[Any], timeout_s: float) -> Any:
    """The next item of `queue`; an error as soon as a worker died rather than at the timeout."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            return queue.get(timeout=0.2)
        except Empty:
            failed = [w.exitcode for w in workers if w.exitcode not in (None, 0)]
            if failed:
                raise RuntimeError(f"a load-generator process exited with {failed[0]}") from None
    raise TimeoutError(f"no word from the load-generator processes in {timeout_s} s")


def _shares(concurrency: int, processes: int) -> list[int]:
    base, extra = divmod(concurrency, processes)
    return [base + (1 if i < extra else 0) for i in range(processes) if base or i < extra]


def _process_main(
    cell: LoadCell, index: int, connections: int, ready: Any, go: Any, results: Any
) -> None:
    results.put(asyncio.run(_drive(cell, index, connections, ready, go)))


async def _drive(cell: LoadCell, index: int, connections: int, ready: Any, go: Any) -> Outcome:
    loop = asyncio.get_running_loop()
    requests = _Requests(cell, index)
    outcome = Outcome()
    clients = []
    for _ in range(connections):
        _, client = await loop.create_connection(
            lambda: _Connection(requests, outcome), "127.0.0.1", cell.port
        )
        clients.append(client)
    # The signed requests and the connections outlive the window: no collector pause in it.
    gc.collect()
    gc.freeze()
    gc.disable()
    ready.put(index)
    await loop.run_in_executor(None, go.wait)
    requests.timing = True
    start = time.perf_counter()
    deadline = start + cell.seconds
    await asyncio.gather(*(client.run(deadline) for client in clients))
    outcome.elapsed_s = time.perf_counter() - start
    outcome.signed_while_timing = requests.signed_while_timing
    gc.enable()
    return outcome


class _Requests:
    """The process's signed requests: made before the window; more made in it are counted."""

    def __init__(self, cell: LoadCell, index: int) -> None:
        self.cell = cell
        self.ids = itertools.count()
        self.prefix = f"{os.getpid()}-{index}"
        self.timing = False
        self.signed_while_timing = 0
        if cell.event == "url_validation":
            pool = [self._sign() for _ in range(URL_VALIDATION_POOL)]
            self.cycled: Iterator[bytes] | None = itertools.cycle(pool)
        else:
            self.cycled = None
            count = math.ceil(RTMS_STARTED_RATE_BOUND * cell.seconds / cell.processes)
            self.fresh = deque(self._sign() for _ in range(count))

    def next(self) -> bytes:
        if self.cycled is not None:
            return next(self.cycled)
        if self.fresh:
            return self.fresh.popleft()
        if self.timing:
            self.signed_while_timing += 1
        return self._sign()

    def _sign(self) -> bytes:
        n = next(self.ids)
        body = json.dumps(_envelope(self.cell.event, f"{self.prefix}-{n}", n)).encode()
        ts = str(int(time.time()))
        head = (
            f"POST {PATH} HTTP/1.1\r\nHost: 127.0.0.1:{self.cell.port}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
            f"x-zm-request-timestamp: {ts}\r\n"
            f"x-zm-signature: {webhook_signature(self.cell.secret, ts, body)}\r\n\r\n"
        )
        return head.encode() + body


def _envelope(event: str, unique: str, n: int) -> dict[str, Any]:
    if event == "url_validation":
        return {
            "event": "endpoint.url_validation",
            "event_ts": 1_700_000_000_000 + n,
            "payload": {"plainToken": f"token-{unique}"},
        }
    return {
        "event": "meeting.rtms_started",
        "event_ts": 1_700_000_000_000 + n,
        "payload": {
            "meeting_uuid": f"bench-meeting-{unique}==",
            "operator_id": "bench-host",
            "rtms_stream_id": f"bench-stream-{unique}",
            "server_urls": "ws://127.0.0.1:9/signaling",
        },
    }


class _Connection(asyncio.Protocol):
    """One keep-alive connection: a request, its answer timed on arrival, the next request."""

    def __init__(self, requests: _Requests, outcome: Outcome) -> None:
        self.requests = requests
        self.outcome = outcome
        self.buffer = bytearray()
        self.expected = 0  # the answer's full length, once its head has arrived
        self.status = 0
        self.sent_at = 0.0
        self.deadline = 0.0
        self.finished: asyncio.Future[None] | None = None
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    async def run(self, deadline: float) -> None:
        self.deadline = deadline
        self.finished = asyncio.get_running_loop().create_future()
        self._send()
        await self.finished

    def _send(self) -> None:
        assert self.transport is not None
        request = self.requests.next()
        self.sent_at = time.perf_counter()
        self.transport.write(request)

    def data_received(self, data: bytes) -> None:
        arrived = time.perf_counter()
        self.buffer += data
        if not self.expected:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(self.buffer[:end]).lower()
            self.status = int(head[9:12])
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip() == b"content-length":
                    length = int(value)
            self.expected = end + 4 + length
        if len(self.buffer) < self.expected:
            return
        self.outcome.latencies_ms.append((arrived - self.sent_at) * 1000)
        if self.status >= 300:
            self.outcome.errors += 1
        del self.buffer[: self.expected]
        self.expected = 0
        if arrived < self.deadline:
            self._send()
            return
        assert self.transport is not None and self.finished is not None
        self.transport.close()
        if not self.finished.done():
            self.finished.set_result(None)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.finished is not None and not self.finished.done():
            self.finished.set_exception(exc or ConnectionError("the server closed the connection"))
