"""One accepted WebSocket: framed sends that are recorded, keep-alives, and dropping it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from rtms_ingest.protocol import KeepAliveRequest, KeepAliveResponse, Message, encode_message
from rtms_ingest.simulator.report import SentFrame, StreamReport

log = logging.getLogger(__name__)


def now_ms() -> int:
    """Wall-clock Unix time in milliseconds."""
    return time.time_ns() // 1_000_000


class Connection:
    """A signaling or media socket of one stream, as the server sees it.

    `label` is "signaling" or "media:<kind>" (kind = a server_urls key such as "transcript").
    """

    def __init__(self, ws: ServerConnection, label: str, report: StreamReport) -> None:
        self.ws = ws
        self.label = label
        self.report = report
        self.closed = False
        self._sequence = 0
        self._unanswered_since: float | None = None
        self._keepalive_task: asyncio.Task[None] | None = None

    async def send(self, message: Message, kind: str, key: tuple[Any, ...]) -> bool:
        """Send one message and record it; False (and nothing recorded) if the socket is gone."""
        return await self.send_text(encode_message(message), kind, key)

    async def send_text(self, text: str, kind: str, key: tuple[Any, ...]) -> bool:
        """Send one text frame as is and record it."""
        if self.closed:
            return False
        stamp = time.monotonic_ns()
        try:
            await self.ws.send(text)
        except ConnectionClosed:
            self.closed = True
            return False
        self.report.sent.append(SentFrame(kind, stamp, key, self.label))
        return True

    async def close(self, reason: str = "") -> None:
        """Close with 1000 (normal closure), waiting briefly for the client's close frame."""
        self.closed = True
        self.stop_keepalive()
        with contextlib.suppress(Exception):
            await self.ws.close(1000, reason)

    def abort(self) -> None:
        """Drop the TCP connection without a close frame, like a network failure."""
        self.closed = True
        self.stop_keepalive()
        self.ws.transport.abort()

    # Keep-alive: a KEEP_ALIVE_REQ every interval; a request unanswered for `timeout_s` drops
    # the socket (as Zoom's mock server terminates it), and `on_timeout` is told.

    def start_keepalive(
        self,
        interval_s: float,
        timeout_s: float,
        on_timeout: Callable[[Connection], None],
        enabled: bool = True,
    ) -> None:
        """Start sending keep-alives on this socket (unless `enabled` is False)."""
        if enabled:
            self._keepalive_task = asyncio.create_task(
                self._keepalive(interval_s, timeout_s, on_timeout),
                name=f"keepalive {self.report.rtms_stream_id} {self.label}",
            )

    def stop_keepalive(self) -> None:
        """Stop the keep-alive task, if any."""
        if self._keepalive_task is not None and self._keepalive_task is not asyncio.current_task():
            self._keepalive_task.cancel()

    def keepalive_answered(self, answer: KeepAliveResponse) -> None:
        """A KEEP_ALIVE_RESP arrived (an echo, or a timestamp-only answer): nothing pending."""
        self._unanswered_since = None
        answers = self.report.keepalive_answers
        answers[self.label] = answers.get(self.label, 0) + 1

    async def _keepalive(
        self, interval_s: float, timeout_s: float, on_timeout: Callable[[Connection], None]
    ) -> None:
        loop = asyncio.get_running_loop()
        next_send = loop.time() + interval_s
        while not self.closed:
            deadline = (
                float("inf")
                if self._unanswered_since is None
                else self._unanswered_since + timeout_s
            )
            await asyncio.sleep(max(0.0, min(next_send, deadline) - loop.time()))
            now = loop.time()
            if self._unanswered_since is not None and now >= self._unanswered_since + timeout_s:
                log.info(
                    "%s %s: keep-alive unanswered, dropping", self.report.rtms_stream_id, self.label
                )
                self.report.dropped_for_missed_keepalive = True
                self.abort()
                on_timeout(self)
                return
            if now >= next_send:
                next_send += interval_s
                await self._send_keepalive(now)

    async def _send_keepalive(self, now: float) -> None:
        self._sequence += 1
        request = KeepAliveRequest(timestamp=now_ms(), sequence=self._sequence)
        sent = await self.send(request, "keepalive", (self.label, self._sequence))
        if sent and self._unanswered_since is None:
            self._unanswered_since = now
