"""Prometheus metrics of one ingest process, read from its supervisor when scraped.

Served on `RTMS_METRICS_PORT` (0: off) by `run_ingest`; with `--processes N` worker i serves
on that port + i. Counters are totals over every stream the process held (ended ones kept),
so they never go backwards while the process lives.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import REGISTRY, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from rtms_ingest.cluster.supervisor import Supervisor

__all__ = ["IngestCollector", "serve_metrics"]

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


def serve_metrics(supervisor: Supervisor, port: int, addr: str = "0.0.0.0") -> None:  # noqa: S104
    """Register the collector and serve /metrics on `port` (a daemon thread)."""
    REGISTRY.register(IngestCollector(supervisor))
    start_http_server(port, addr)
