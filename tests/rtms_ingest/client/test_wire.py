"""One RTMS socket on picows: whole messages out, fragments joined, closes and refusals told."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import pytest
from websockets.asyncio.server import ServerConnection, serve
from websockets.http11 import Request, Response

from rtms_ingest.client.backoff import is_retryable
from rtms_ingest.client.wire import RtmsSocket, SocketClosed, UpgradeRefused, open_socket

Handler = Callable[[ServerConnection], Awaitable[None]]


@asynccontextmanager
async def server(handler: Handler, **options: object) -> AsyncIterator[str]:
    async with serve(handler, "127.0.0.1", 0, **options) as srv:  # type: ignore[arg-type]
        yield f"ws://127.0.0.1:{srv.sockets[0].getsockname()[1]}/"


class Received:
    """What a socket handed over: messages, then how it closed."""

    def __init__(self, sock: RtmsSocket) -> None:
        self.messages: list[bytes] = []
        self.closed = asyncio.get_running_loop().create_future()
        sock.attach(self.messages.append, self._on_close)

    def _on_close(self, closed: SocketClosed) -> None:
        if not self.closed.done():
            self.closed.set_result(closed)


async def test_whole_and_fragmented_messages_arrive_whole_in_order() -> None:
    async def handler(ws: ServerConnection) -> None:
        await ws.send("first")
        await ws.send(["frag", "mented ", "text"])  # one message in three frames
        await ws.send(b"\x00binary")
        await ws.close(1000, "done")

    async with server(handler) as url, open_socket_for(url) as sock:
        got = Received(sock)
        closed = await asyncio.wait_for(got.closed, 5)

    assert got.messages == [b"first", b"fragmented text", b"\x00binary"]
    assert (closed.code, closed.reason) == (1000, "done")
    assert is_retryable(closed)


async def test_messages_before_attach_are_kept_and_handed_over_first() -> None:
    async def handler(ws: ServerConnection) -> None:
        await ws.send("early")
        await ws.wait_closed()

    async with server(handler) as url, open_socket_for(url) as sock:
        await asyncio.sleep(0.2)  # the message arrives before anyone reads
        got = Received(sock)
        assert got.messages == [b"early"]


async def test_a_fragmented_message_over_the_limit_closes_the_socket_with_1009() -> None:
    codes: list[int | None] = []

    async def handler(ws: ServerConnection) -> None:
        await ws.send(["x" * 600, "y" * 600])  # 1200 bytes against a 1000-byte limit
        await ws.wait_closed()
        codes.append(ws.close_code)

    async with server(handler) as url, open_socket_for(url, 1000) as sock:
        got = Received(sock)
        await asyncio.wait_for(got.closed, 5)

    assert got.messages == []
    assert codes == [1009]


async def test_send_after_the_close_raises_socket_closed() -> None:
    async def handler(ws: ServerConnection) -> None:
        await ws.close(1001, "going away")

    async with server(handler) as url, open_socket_for(url) as sock:
        closed = await asyncio.wait_for(Received(sock).closed, 5)
        with pytest.raises(SocketClosed):
            sock.send(b"{}")

    assert closed.code == 1001


async def test_an_http_refusal_is_upgrade_refused_with_its_status() -> None:
    def refuse(connection: ServerConnection, request: Request) -> Response:
        return connection.respond(403, "no\n")

    async with server(lambda ws: ws.wait_closed(), process_request=refuse) as url:
        with pytest.raises(UpgradeRefused) as refused:
            async with open_socket_for(url):
                pass

    assert refused.value.status == 403
    assert not is_retryable(refused.value)


async def test_a_server_that_hangs_up_during_the_upgrade_is_a_retryable_close() -> None:
    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.close()

    plain = await asyncio.start_server(hang_up, "127.0.0.1", 0)
    url = f"ws://127.0.0.1:{plain.sockets[0].getsockname()[1]}/"
    try:
        with pytest.raises(SocketClosed) as closed:
            async with open_socket_for(url):
                pass
    finally:
        plain.close()

    assert is_retryable(closed.value)


def open_socket_for(
    url: str, max_message_bytes: int = 1 << 20
) -> AbstractAsyncContextManager[RtmsSocket]:
    return open_socket(
        url,
        ssl_context=None,
        user_agent="rtms-ingest-test",
        open_timeout_s=5,
        close_timeout_s=1,
        max_message_bytes=max_message_bytes,
    )
