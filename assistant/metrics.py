"""Prometheus figures of the app's processes: caption latency, and the port each one serves on.

Each process serves its own figures on a port of its own, never through the public site: the
web process on `WEB_METRICS_PORT` (with the webhook's latency, and the captions of the embedded
shape, whose jobs run inside it), each Celery worker on `WORKER_METRICS_PORT` (the `asr` worker
records the caption latency). 0, the default, serves nothing. The ingest serves its own on
`RTMS_METRICS_PORT` (rtms_ingest/runtime/metrics.py).
"""

from __future__ import annotations

import logging
import time
from wsgiref.simple_server import WSGIServer

from django.conf import settings
from prometheus_client import Counter, Histogram, start_http_server

__all__ = [
    "CAPTION_LATENCY",
    "PROVISIONAL_SKIPPED",
    "caption_stored",
    "provisional_skipped",
    "serve_metrics",
]

log = logging.getLogger(__name__)

# From the end of a cut's audio reaching the ingest to its caption stored and pushed: a
# provisional caption is cut while its speaker talks, a final after the speaker's hangover.
CAPTION_LATENCY = Histogram(
    "assistant_caption_latency_seconds",
    "From an utterance's audio reaching the ingest to its caption stored and pushed to viewers",
    ["kind"],
    buckets=(0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 8.0, 13.0, 20.0, 30.0, 60.0),
)

# Provisional cuts an `asr` worker did not decode because they came too late (under load).
PROVISIONAL_SKIPPED = Counter(
    "assistant_asr_provisional_skipped",
    "Provisional cuts (early decodes first) not decoded because the asr queue lagged",
)


def provisional_skipped() -> None:
    """A provisional cut was skipped under load (services/streaming.skipped_under_load)."""
    PROVISIONAL_SKIPPED.inc()


def caption_stored(heard_at: float | None, *, final: bool) -> None:
    """A caption was stored and pushed; `heard_at` is when its audio reached the ingest.

    `heard_at` is the ingest's wall clock (Unix seconds): across machines the figure is as good
    as their clocks agree (NTP). None (a job queued before the ingest said) is not counted.
    """
    if heard_at is None:
        return
    kind = "final" if final else "provisional"
    CAPTION_LATENCY.labels(kind).observe(max(0.0, time.time() - heard_at))


def serve_metrics(port: int, addr: str | None = None) -> WSGIServer:
    """Serve this process's registry on `port` (a daemon thread); the server.

    On METRICS_BIND_ADDRESS unless `addr` is given: loopback by default, since the figures
    (meeting counts, queue depths) are for the operators' scraper, not the network.
    """
    server, _thread = start_http_server(port, addr or settings.METRICS_BIND_ADDRESS)
    log.info("Prometheus metrics on port %d", server.server_port)
    return server
