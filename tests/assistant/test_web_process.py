"""The web process's tuning of daphne and of the collector (assistant.wiring.web_process)."""

from __future__ import annotations

import asyncio
import gc
from typing import Any

from daphne.http_protocol import HTTPFactory
from daphne.server import Server
from twisted.internet.address import IPv4Address
from twisted.internet.testing import StringTransport

import assistant.asgi  # noqa: F401  (applies the tuning, as daphne's import of it does)


class ConnectedOnly:
    """The one method of daphne's Server that building a request calls."""

    def __init__(self) -> None:
        self.connections: dict[Any, dict[str, Any]] = {}

    def protocol_connected(self, protocol: Any) -> None:
        self.connections[protocol] = {}


def test_startup_heap_is_frozen_out_of_the_collector() -> None:
    assert gc.get_freeze_count() > 0


def test_daphne_requests_skip_twisteds_form_parsing() -> None:
    factory = HTTPFactory(ConnectedOnly())
    protocol = factory.buildProtocol(IPv4Address("TCP", "127.0.0.1", 5000))
    protocol.makeConnection(StringTransport())
    request = protocol.requestFactory(protocol._channel, False)
    # Twisted then never parses a POST's Content-Type (with the email package) into .args.
    assert request._parsePOSTFormSubmission is False


def new_server() -> Server:
    server = Server(application=None, endpoints=["tcp:port=0"], signal_handlers=False)
    server.connections = {}
    return server


async def run_request(server: Server, app: Any, *, answered: bool) -> object:
    server.application = app
    protocol = object()
    server.protocol_connected(protocol)
    server.create_application(protocol, {"type": "http"})
    if answered:
        server.protocol_disconnected(protocol)  # what daphne does when the answer is finished
    await asyncio.gather(
        server.connections[protocol]["application_instance"], return_exceptions=True
    )
    await asyncio.sleep(0)  # the done callbacks
    return protocol


async def test_an_answered_request_is_forgotten_as_soon_as_its_application_ends() -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        return None

    server = new_server()
    await run_request(server, app, answered=True)
    assert server.connections == {}


async def test_a_failed_application_is_left_for_daphnes_sweep_to_report() -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        raise RuntimeError("boom")

    server = new_server()
    protocol = await run_request(server, app, answered=True)
    assert protocol in server.connections


async def test_a_request_not_yet_answered_is_left_for_daphnes_sweep() -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        return None

    server = new_server()
    protocol = await run_request(server, app, answered=False)
    assert protocol in server.connections
