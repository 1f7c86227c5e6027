"""Prometheus metrics of one ingest process, read from its supervisor when scraped.

Served on `RTMS_METRICS_PORT` (0: off) by `run_ingest`; with `--processes N` worker i serves
on that port + i. Counters are totals over every stream the process held (ended ones kept),
so they never go backwards while the process lives. The same page carries the queue depths
(`QueueDepthCollector`: read from Redis at scrape time) and what the ingest's sinks count
(rtms_ingest/storage/metrics.py).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterator, Sequence
from wsgiref.simple_server import WSGIServer

import redis
from django.conf import settings
from prometheus_client import REGISTRY, CollectorRegistry, start_http_server
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

from rtms_ingest.cluster.command_queue import COMMANDS_STREAM
from rtms_ingest.cluster.supervisor import Supervisor
from rtms_ingest.storage.database import db_calls_waiting

__all__ = [
    "IngestCollector",
    "QueueDepthCollector",
    "RunningIngestCollector",
    "serve_metrics",
]

log = logging.getLogger(__name__)

# Kombu's Redis transport keeps a queue's messages of priority p > 0 in the list
# "<queue>\x06\x16<p>" (default priority steps 0, 3, 6, 9); unprioritised ones in "<queue>".
_PRIORITY_SUFFIXES = ("", "\x06\x163", "\x06\x166", "\x06\x169")
# A scrape must answer even when Redis does not: the depths are left out then.
REDIS_TIMEOUT_S = 1.0

_COUNTERS = {
    "audio_frames": ("rtms_ingest_audio_frames", "Audio frames delivered to the sinks"),
    "frames_dropped": ("rtms_ingest_frames_dropped", "Data frames dropped from a full backlog"),
    "frames_discarded": (
        "rtms_ingest_frames_discarded",
        "Frames read but not delivered before their stream ended",
    ),
    "gaps_recorded": ("rtms_ingest_gaps_recorded", "Gaps recorded for dropped or lost frames"),
    "keepalives_answered": ("rtms_ingest_keepalives_answered", "RTMS keep-alives answered"),
    "malformed_frames": ("rtms_ingest_malformed_frames", "Frames skipped as malformed"),
    "reconnects": ("rtms_ingest_reconnects", "Signaling reconnection attempts"),
    "media_reconnects": ("rtms_ingest_media_reconnects", "Media socket reconnection attempts"),
    "sink_errors": ("rtms_ingest_sink_errors", "Sink calls that raised"),
    "frames_received": ("rtms_ingest_frames_received", "RTMS frames received and parsed"),
    "unknown_frames": ("rtms_ingest_unknown_frames", "Frames skipped as of an unknown type"),
    "audio_bytes": ("rtms_ingest_audio_bytes", "Bytes of audio delivered to the sinks"),
    "chat_group_events": (
        "rtms_ingest_chat_group_events",
        "Chat-group events (EVENT_UPDATE 10-14) read and skipped (not stored)",
    ),
    "odd_lengths": (
        "rtms_ingest_odd_length_frames",
        "Media frames whose `length` field disagrees with their data (kept as sent)",
    ),
}


class IngestCollector(Collector):
    """Streams held and refused, event-loop lag, CPU, and the client counters."""

    def __init__(self, supervisor: Supervisor) -> None:
        self._supervisor = supervisor

    def collect(self) -> Iterator[Metric]:
        supervisor = self._supervisor
        totals = supervisor.totals()
        for key, (name, documentation) in _COUNTERS.items():
            yield CounterMetricFamily(name, documentation, value=totals[key])
        yield GaugeMetricFamily(
            "rtms_ingest_streams_held", "Streams this process holds", value=len(supervisor.streams)
        )
        yield from _moves(supervisor)
        gauge = supervisor.gauge
        if gauge is not None:
            figures = gauge.snapshot()
            yield CounterMetricFamily(
                "rtms_ingest_streams_refused",
                "New streams left in the queue for another ingest (load)",
                value=gauge.refused,
            )
            yield GaugeMetricFamily(
                "rtms_ingest_event_loop_lag_seconds",
                "Worst event-loop lag over the last two seconds",
                value=figures["loop_lag_ms"] / 1000,
            )
            yield GaugeMetricFamily(
                "rtms_ingest_cpu_share",
                "Share of one core this process used over the last two seconds",
                value=figures["cpu"],
            )
        yield GaugeMetricFamily(
            "rtms_ingest_db_calls_waiting",
            "Database writes waiting for one of the ingest's DB threads",
            value=db_calls_waiting(),
        )
        delays = supervisor.keepalive_delay()
        cumulative, buckets = 0, []
        for bound, count in zip((*delays.bounds, math.inf), delays.counts, strict=True):
            cumulative += count
            buckets.append((floatToGoString(bound), cumulative))
        yield HistogramMetricFamily(
            "rtms_ingest_keepalive_delay_seconds",
            "From the keep-alive's RTMS timestamp to our answer (network, backlog, clock skew)",
            buckets=buckets,
            sum_value=delays.sum_s,
        )
        yield GaugeMetricFamily(
            "rtms_ingest_backlog_bytes",
            "Bytes of media read off the sockets and not yet delivered to the sinks",
            value=supervisor.backlog_bytes(),
        )


def _moves(supervisor: Supervisor) -> Iterator[Metric]:
    """Streams moved between ingests (hand-overs on SIGTERM, takeovers after a crash)."""
    moves = supervisor.moves
    yield CounterMetricFamily(
        "rtms_ingest_streams_handed_over",
        "Streams this process handed over to another ingest when told to stop",
        value=moves["handed_over"],
    )
    rejoined = CounterMetricFamily(
        "rtms_ingest_streams_rejoined",
        "Streams this process rejoined from another ingest",
        labels=["how"],
    )
    rejoined.add_metric(["handover"], moves["rejoined_handover"])
    rejoined.add_metric(["takeover"], moves["rejoined_takeover"])
    yield rejoined
    yield CounterMetricFamily(
        "rtms_ingest_streams_lost",
        "Streams another ingest took from this one (its lease ran out: paused or cut off)",
        value=moves["lost"],
    )


class RunningIngestCollector(Collector):
    """The ingest's figures while a supervisor runs in this process (the embedded shape)."""

    def __init__(self, current: Callable[[], Supervisor | None]) -> None:
        self._current = current

    def collect(self) -> Iterator[Metric]:
        supervisor = self._current()
        if supervisor is not None:
            yield from IngestCollector(supervisor).collect()

    def describe(self) -> Iterator[Metric]:
        return iter(())  # nothing to show before the ingest starts


class QueueDepthCollector(Collector):
    """What waits in Redis: stream commands for an ingest, and jobs per Celery queue.

    Read at scrape time in prometheus_client's HTTP thread, with a synchronous client of its
    own (never the ingest's event loop): one round trip (XLEN of the command stream, whose
    entries are deleted once acted on, and LLEN of each job queue).
    """

    def __init__(
        self, redis_url: str, job_queues: Sequence[str], commands_stream: str = COMMANDS_STREAM
    ) -> None:
        self._redis = redis.Redis.from_url(
            redis_url, socket_timeout=REDIS_TIMEOUT_S, socket_connect_timeout=REDIS_TIMEOUT_S
        )
        self._job_queues = tuple(job_queues)
        self._commands_stream = commands_stream

    def collect(self) -> Iterator[Metric]:
        keys = [queue + suffix for queue in self._job_queues for suffix in _PRIORITY_SUFFIXES]
        pipe = self._redis.pipeline(transaction=False)
        pipe.xlen(self._commands_stream)
        for key in keys:
            pipe.llen(key)
        try:
            lengths = [int(n) for n in pipe.execute()]
        except redis.RedisError as exc:
            log.warning("queue depths not read: %s", exc)
            return
        yield GaugeMetricFamily(
            "rtms_ingest_commands_waiting",
            "Stream commands (start, stop, interrupt) in Redis not yet acted on by an ingest",
            value=lengths[0],
        )
        jobs = GaugeMetricFamily(
            "assistant_jobs_waiting", "Jobs waiting in Redis per Celery queue", labels=["queue"]
        )
        per_queue = len(_PRIORITY_SUFFIXES)
        for i, queue in enumerate(self._job_queues):
            start = 1 + i * per_queue
            jobs.add_metric([queue], sum(lengths[start : start + per_queue]))
        yield jobs

    def describe(self) -> Iterator[Metric]:
        return iter(())  # no read of Redis when registered


def serve_metrics(
    supervisor: Supervisor,
    port: int,
    addr: str | None = None,
    *,
    redis_url: str = "",
    job_queues: Sequence[str] = (),
    registry: CollectorRegistry = REGISTRY,
) -> WSGIServer:
    """Register the collectors and serve /metrics on `port` (a daemon thread); the server.

    Without `redis_url` (the embedded shape) there are no queue depths to read. On
    METRICS_BIND_ADDRESS unless `addr` is given (loopback by default).
    """
    registry.register(IngestCollector(supervisor))
    if redis_url:
        registry.register(QueueDepthCollector(redis_url, job_queues))
    bind = addr or settings.METRICS_BIND_ADDRESS
    server, _thread = start_http_server(port, bind, registry)
    return server
