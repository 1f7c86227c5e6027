"""A live-captions viewer over a real WebSocket, as the dashboard's JavaScript is."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.client import connect


@dataclass
class Viewer:
    """Collects every event of a meeting's live socket with its receive time."""

    url: str
    cookie: str
    origin: str
    events: list[dict[str, Any]] = field(default_factory=list)
    received_ns: list[int] = field(default_factory=list)
    ended: asyncio.Event = field(default_factory=asyncio.Event)

    async def run(self, timeout_s: float, *, stop_at_end: bool = True) -> None:
        """Read events until the meeting's state is ended (or the timeout)."""
        headers = {"Cookie": self.cookie, "Origin": self.origin}
        async with connect(self.url, additional_headers=headers) as socket:
            async with asyncio.timeout(timeout_s):
                async for raw in socket:
                    now = time.monotonic_ns()
                    event = json.loads(raw)
                    self.events.append(event)
                    self.received_ns.append(now)
                    if event.get("type") == "state" and event.get("state") in ("ended", "failed"):
                        self.ended.set()
                        if stop_at_end:
                            return

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e.get("type") == kind]
