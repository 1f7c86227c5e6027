"""The web process's figures: the webhook's latency, on a port of its own, never on the site."""

from __future__ import annotations

import pytest
from django.conf import settings

from assistant.metrics import serve_metrics
from tests.metrics_support import figure, scrape
from tests.rtms_ingest.webhooks.edge import URL, status_of

pytestmark = pytest.mark.django_db(transaction=True)

COUNT = "rtms_webhook_latency_seconds_count"


async def test_each_answered_webhook_is_timed_on_the_metrics_port() -> None:
    server = serve_metrics(0, "127.0.0.1")
    try:
        port = int(server.server_port)
        before = scrape(port)
        # Unsigned: answered 401 after the signature check, which is timed like any answer.
        assert await status_of(URL, [b'{"event": "x"}'], []) == 401
        assert await status_of(URL, [b'{"event": "y"}'], []) == 401
        after = scrape(port)
    finally:
        server.shutdown()
    assert figure(after, COUNT) - figure(before, COUNT) == 2
    assert figure(after, "rtms_webhook_latency_seconds_sum") > figure(
        before, "rtms_webhook_latency_seconds_sum"
    )


async def test_the_site_serves_no_metrics_and_the_port_is_off_by_default() -> None:
    assert settings.WEB_METRICS_PORT == 0
    assert await status_of("/metrics", [b""], []) in (403, 404, 405)
