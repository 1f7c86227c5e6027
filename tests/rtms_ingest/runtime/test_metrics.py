"""The ingest's Prometheus metrics: read from the supervisor when scraped."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, generate_latest

from rtms_ingest.cluster.admission import LoadGauge
from rtms_ingest.runtime.metrics import IngestCollector
from tests.rtms_ingest.cluster.supervisor_support import supervisor


def test_metrics_show_streams_refusals_lag_and_totals_of_ended_streams() -> None:
    ingest = supervisor(gauge=LoadGauge())
    ingest.gauge._sample(lag_ms=120, cpu=0.5)  # type: ignore[union-attr]
    ingest.gauge.refusal(held=0)  # type: ignore[union-attr]
    ingest.ended_totals.update({"audio_frames": 1000, "frames_dropped": 7, "gaps_recorded": 1})
    registry = CollectorRegistry()
    registry.register(IngestCollector(ingest))

    text = generate_latest(registry).decode()

    assert "rtms_ingest_audio_frames_total 1000.0" in text
    assert "rtms_ingest_frames_dropped_total 7.0" in text
    assert "rtms_ingest_gaps_recorded_total 1.0" in text
    assert "rtms_ingest_streams_held 0.0" in text
    assert "rtms_ingest_streams_refused_total 1.0" in text
    assert "rtms_ingest_event_loop_lag_seconds 0.12" in text
