"""A live-captions viewer over a real WebSocket, as the dashboard's JavaScript is."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit, urlunsplit

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidHandshake, WebSocketException


@dataclass
class Viewer:
    """Collects every event of a meeting's live socket with its receive time."""

    url: str
    cookie: str
    origin: str
    events: list[dict[str, Any]] = field(default_factory=list)
    received_ns: list[int] = field(default_factory=list)
    ended: asyncio.Event = field(default_factory=asyncio.Event)
    connections: int = 0  # sockets opened (by follow: 1 + reconnections)

    async def run(self, timeout_s: float, *, stop_at_end: bool = True) -> None:
        """Read events until the meeting's state is ended (or the timeout)."""
        async with connect(self.url, additional_headers=self._headers) as socket:
            self.connections += 1
            async with asyncio.timeout(timeout_s):
                await self._read(socket, stop_at_end)

    async def follow(
        self, timeout_s: float, *, stop_at_end: bool = True, retry_s: float = 0.25
    ) -> None:
        """Read events until the meeting ends (or the timeout), reconnecting as the dashboard does.

        Whenever the socket closes or cannot be opened, connect again after `retry_s` saying
        the last sequence number seen (`?since=`), so the server replays what was missed.
        """
        async with asyncio.timeout(timeout_s):
            while not (stop_at_end and self.ended.is_set()):
                try:
                    async with connect(self._url_since(), additional_headers=self._headers) as ws:
                        self.connections += 1
                        await self._read(ws, stop_at_end)
                except (OSError, InvalidHandshake, WebSocketException):
                    pass
                if not (stop_at_end and self.ended.is_set()):
                    await asyncio.sleep(retry_s)

    @property
    def _headers(self) -> dict[str, str]:
        return {"Cookie": self.cookie, "Origin": self.origin}

    def _url_since(self) -> str:
        parts = urlsplit(self.url)
        asked = int(parse_qs(parts.query).get("since", ["0"])[0])
        last = max((int(e["seq"]) for e in self.events if "seq" in e), default=asked)
        return urlunsplit(parts._replace(query=f"since={last}"))

    async def _read(self, socket: ClientConnection, stop_at_end: bool) -> None:
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
