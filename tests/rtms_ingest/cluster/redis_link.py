"""A TCP hop in front of the real Redis that a test can cut: a Redis outage, with no fake Redis."""

from __future__ import annotations

import asyncio
import contextlib
from urllib.parse import urlsplit, urlunsplit


class RedisLink:
    """Forwards every connection to the real Redis until cut(); while cut, connections die."""

    def __init__(self, redis_url: str) -> None:
        self._parts = urlsplit(redis_url)
        self._server: asyncio.Server | None = None
        self._sockets: set[asyncio.StreamWriter] = set()
        self.is_cut = False

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._forward, "127.0.0.1", 0)

    @property
    def url(self) -> str:
        """The Redis URL (same database and credentials) that goes through this link."""
        assert self._server is not None
        port = self._server.sockets[0].getsockname()[1]
        netloc = self._parts.netloc.rpartition("@")[0]
        netloc = f"{netloc}@127.0.0.1:{port}" if netloc else f"127.0.0.1:{port}"
        return urlunsplit(self._parts._replace(netloc=netloc))

    def cut(self) -> None:
        """Reset every open connection; new ones are reset at once until restore()."""
        self.is_cut = True
        for writer in self._sockets:
            writer.transport.abort()
        self._sockets.clear()

    def restore(self) -> None:
        """Let connections through again."""
        self.is_cut = False

    async def close(self) -> None:
        self.cut()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _forward(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.is_cut:
            writer.transport.abort()
            return
        host, port = self._parts.hostname or "127.0.0.1", self._parts.port or 6379
        up_reader, up_writer = await asyncio.open_connection(host, port)
        self._sockets |= {writer, up_writer}
        await asyncio.gather(
            _pipe(reader, up_writer), _pipe(up_reader, writer), return_exceptions=True
        )
        self._sockets -= {writer, up_writer}


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    finally:
        with contextlib.suppress(Exception):
            writer.transport.abort()
