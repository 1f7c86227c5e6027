"""A live viewer that survives drops, as the dashboard's static/js/live-socket.js does.

It reconnects with `?since=<last seq>` after a drop (backoff 1 s doubling to 30 s, equal
jitter), pings right after connecting and every 20 s (the server catches up before it answers,
so a lost push is noticed within one ping), and gives up on a socket whose pong is 10 s late.
Every event is kept once, by seq, with the time it arrived.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

PING_EVERY_S = 20.0
PONG_TIMEOUT_S = 10.0
OPEN_TIMEOUT_S = 10.0
CLOSE_FORBIDDEN = 4403


def backoff_s(attempt: int, base_s: float = 1.0, cap_s: float = 30.0) -> float:
    """Delay before reconnect attempt `attempt` (1-based), as live-socket.js backoffDelay."""
    ceiling = min(cap_s, base_s * 2 ** max(0, attempt - 1))
    return ceiling / 2 + random.random() * ceiling / 2


@dataclass
class LiveViewer:
    """One meeting's live socket, read until stopped."""

    url: str
    cookie: str
    origin: str
    events: list[dict[str, Any]] = field(default_factory=list)
    received_ns: list[int] = field(default_factory=list)
    last_seq: int = 0
    connections: int = 0
    drops: list[str] = field(default_factory=list)
    forbidden: bool = False
    _pong: asyncio.Event = field(default_factory=asyncio.Event, repr=False)

    async def run(self, stop: asyncio.Event) -> None:
        """Connect, read, reconnect after drops, until `stop` is set (or access is refused)."""
        attempt = 0
        while not stop.is_set():
            try:
                await self._connected(stop)
                attempt = 0
            except InvalidStatus as exc:
                self.drops.append(f"refused: HTTP {exc.response.status_code}")
            except (OSError, InvalidHandshake, ConnectionClosed, TimeoutError) as exc:
                self.drops.append(f"{type(exc).__name__}: {exc}"[:160])
            if stop.is_set() or self.forbidden:
                return
            attempt += 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), backoff_s(attempt))

    async def _connected(self, stop: asyncio.Event) -> None:
        headers = {"Cookie": self.cookie, "Origin": self.origin}
        url = f"{self.url}?since={self.last_seq}"
        async with connect(url, additional_headers=headers, open_timeout=OPEN_TIMEOUT_S) as ws:
            self.connections += 1
            pinger = asyncio.create_task(self._ping(ws))
            stopper = asyncio.create_task(stop.wait())
            reader = asyncio.create_task(self._read(ws))
            try:
                await asyncio.wait({pinger, stopper, reader}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for task in (pinger, stopper, reader):
                    task.cancel()
                await asyncio.gather(pinger, stopper, reader, return_exceptions=True)
            if reader.done() and not reader.cancelled():
                error = reader.exception()
                if error is not None:
                    raise error
            if ws.close_code == CLOSE_FORBIDDEN:
                self.forbidden = True
            if not stop.is_set():
                self.drops.append(f"closed {ws.close_code} or no pong")

    async def _read(self, ws: ClientConnection) -> None:
        async for raw in ws:
            now = time.monotonic_ns()
            event = json.loads(raw)
            if event.get("type") == "pong":
                self._pong.set()
                continue
            seq = event.get("seq")
            if not isinstance(seq, int) or seq <= self.last_seq:
                continue  # already kept (a replay overlapping a push)
            self.last_seq = seq
            self.events.append(event)
            self.received_ns.append(now)

    async def _ping(self, ws: ClientConnection) -> None:
        """Ping now and every 20 s; return (dropping the socket) when a pong is 10 s late."""
        while True:
            self._pong = asyncio.Event()
            await ws.send(json.dumps({"type": "ping"}))
            try:
                await asyncio.wait_for(self._pong.wait(), PONG_TIMEOUT_S)
            except TimeoutError:
                return
            await asyncio.sleep(PING_EVERY_S)

    def segments(self) -> list[tuple[dict[str, Any], int]]:
        """Every segment event with its receive time (time.monotonic_ns())."""
        return [
            (event, at)
            for event, at in zip(self.events, self.received_ns, strict=True)
            if event.get("type") == "segment"
        ]

    def final_state(self) -> str | None:
        """The last meeting state the viewer was told."""
        states = [event.get("state") for event in self.events if event.get("type") == "state"]
        return states[-1] if states else None
