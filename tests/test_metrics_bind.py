"""Every metrics server binds METRICS_BIND_ADDRESS: loopback unless the operator says otherwise."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from wsgiref.simple_server import WSGIServer

import pytest
from django.test import override_settings
from prometheus_client import CollectorRegistry

from assistant import metrics as app_metrics
from assistant.celery import metrics_of_pool_child
from rtms_ingest.runtime import metrics as ingest_metrics
from tests.integration.stack import free_port
from tests.metrics_support import scrape
from tests.rtms_ingest.cluster.supervisor_support import supervisor


def _web() -> WSGIServer:
    return app_metrics.serve_metrics(free_port())  # as assistant/asgi.py starts it


def _worker() -> WSGIServer:
    with override_settings(WORKER_METRICS_PORT=free_port()):
        server = metrics_of_pool_child()  # what a prefork child of the worker runs first
    assert server is not None
    return server


def _ingest() -> WSGIServer:
    # As run_ingest starts it (a registry of its own, so that tests do not collide).
    return ingest_metrics.serve_metrics(supervisor(), free_port(), registry=CollectorRegistry())


SERVERS: dict[str, Callable[[], WSGIServer]] = {"web": _web, "worker": _worker, "ingest": _ingest}


@pytest.fixture(params=sorted(SERVERS))
def start_server(request: pytest.FixtureRequest) -> Iterator[Callable[[], WSGIServer]]:
    started: list[WSGIServer] = []

    def start() -> WSGIServer:
        server = SERVERS[request.param]()
        started.append(server)
        return server

    yield start
    for server in started:
        server.shutdown()
        server.server_close()


def test_metrics_servers_listen_on_loopback_only_by_default(
    start_server: Callable[[], WSGIServer],
) -> None:
    server = start_server()
    assert server.server_address[0] == "127.0.0.1"
    assert scrape(int(server.server_port))  # and answers there


@override_settings(METRICS_BIND_ADDRESS="0.0.0.0")
def test_metrics_bind_address_opens_them_to_the_network_when_set(
    start_server: Callable[[], WSGIServer],
) -> None:
    assert start_server().server_address[0] == "0.0.0.0"
