"""The ingest's Prometheus metrics: read from the supervisor (and Redis) when scraped."""

from __future__ import annotations

import uuid

import redis
from django.conf import settings
from prometheus_client import CollectorRegistry, generate_latest, start_http_server

from rtms_ingest.client.channel import ClientStats
from rtms_ingest.cluster.admission import LoadGauge
from rtms_ingest.cluster.live_stream import stat_totals
from rtms_ingest.cluster.supervisor import Supervisor
from rtms_ingest.runtime.metrics import (
    IngestCollector,
    QueueDepthCollector,
    RunningIngestCollector,
    serve_metrics,
)
from tests.metrics_support import figure, scrape
from tests.rtms_ingest.cluster.supervisor_support import supervisor


def _collected(ingest: Supervisor) -> str:
    """The ingest's figures as a scrape would read them."""
    registry = CollectorRegistry()
    registry.register(IngestCollector(ingest))
    return generate_latest(registry).decode()


def test_metrics_show_streams_refusals_lag_and_totals_of_ended_streams() -> None:
    ingest = supervisor(gauge=LoadGauge())
    ingest.gauge._sample(lag_ms=220, cpu=0.5)  # type: ignore[union-attr]
    ingest.gauge.refusal(held=0)  # type: ignore[union-attr]
    ingest.ended_totals.update({"audio_frames": 1000, "frames_dropped": 7, "gaps_recorded": 1})

    text = _collected(ingest)

    assert "rtms_ingest_audio_frames_total 1000.0" in text
    assert "rtms_ingest_frames_dropped_total 7.0" in text
    assert "rtms_ingest_gaps_recorded_total 1.0" in text
    assert "rtms_ingest_streams_held 0.0" in text
    assert "rtms_ingest_streams_refused_total 1.0" in text
    assert "rtms_ingest_event_loop_lag_seconds 0.22" in text


def test_chat_group_events_and_odd_lengths_are_counted_over_live_and_ended_streams() -> None:
    ingest = supervisor(gauge=LoadGauge())
    ingest.ended_totals.update({"chat_group_events": 5, "odd_lengths": 2})
    live = ClientStats(chat_group_events=1, odd_lengths=3)

    assert stat_totals(live)["chat_group_events"] == 1
    assert stat_totals(live)["odd_lengths"] == 3
    text = _collected(ingest)
    assert "rtms_ingest_chat_group_events_total 5.0" in text
    assert "rtms_ingest_odd_length_frames_total 2.0" in text


def test_keepalive_delays_are_a_histogram_over_ended_and_live_streams() -> None:
    ingest = supervisor(gauge=LoadGauge())
    for delay in (0.003, 0.04, 0.04, 3.0):
        ingest.ended_keepalive_delay.observe(delay)

    text = _collected(ingest)

    assert 'rtms_ingest_keepalive_delay_seconds_bucket{le="0.005"} 1.0' in text
    assert 'rtms_ingest_keepalive_delay_seconds_bucket{le="0.05"} 3.0' in text
    assert 'rtms_ingest_keepalive_delay_seconds_bucket{le="2.5"} 3.0' in text
    assert 'rtms_ingest_keepalive_delay_seconds_bucket{le="+Inf"} 4.0' in text
    assert "rtms_ingest_keepalive_delay_seconds_count 4.0" in text
    assert "rtms_ingest_backlog_bytes 0.0" in text


def test_ingest_endpoint_counts_go_up_as_streams_deliver() -> None:
    ingest = supervisor(gauge=LoadGauge())
    server = serve_metrics(ingest, 0, "127.0.0.1", registry=CollectorRegistry())
    try:
        port = int(server.server_port)
        before = scrape(port)
        ingest.ended_totals.update({"frames_received": 40, "audio_frames": 32, "audio_bytes": 640})
        after = scrape(port)
    finally:
        server.shutdown()
    for name, moved in [
        ("rtms_ingest_frames_received_total", 40),
        ("rtms_ingest_audio_frames_total", 32),
        ("rtms_ingest_audio_bytes_total", 640),
    ]:
        assert figure(after, name) - figure(before, name) == moved
    assert figure(after, "rtms_ingest_db_calls_waiting") == 0


def test_queue_depths_are_read_from_redis_when_scraped() -> None:
    prefix = f"test-metrics-{uuid.uuid4().hex}:"
    queues = [f"{prefix}asr", f"{prefix}llm"]
    commands = f"{prefix}rtms:command-stream"
    registry = CollectorRegistry()
    registry.register(QueueDepthCollector(settings.REDIS_URL, queues, commands_stream=commands))
    server, _ = start_http_server(0, "127.0.0.1", registry)
    r = redis.Redis.from_url(settings.REDIS_URL)
    try:
        port = int(server.server_port)
        empty = scrape(port)
        r.xadd(commands, {"command": "a"})
        r.xadd(commands, {"command": "b"})
        r.rpush(queues[0], "job")
        r.rpush(queues[0] + "\x06\x169", "urgent job")  # kombu's list for priority 9
        full = scrape(port)
    finally:
        server.shutdown()
        r.delete(commands, queues[0], queues[0] + "\x06\x169")
        r.close()
    assert figure(empty, "rtms_ingest_commands_waiting") == 0
    assert figure(empty, "assistant_jobs_waiting", queue=queues[0]) == 0
    assert figure(full, "rtms_ingest_commands_waiting") == 2
    assert figure(full, "assistant_jobs_waiting", queue=queues[0]) == 2
    assert figure(full, "assistant_jobs_waiting", queue=queues[1]) == 0


def test_a_scrape_without_redis_answers_and_leaves_the_depths_out() -> None:
    registry = CollectorRegistry()
    registry.register(QueueDepthCollector("redis://127.0.0.1:1/0", ["asr"]))
    server, _ = start_http_server(0, "127.0.0.1", registry)
    try:
        samples = scrape(int(server.server_port))
    finally:
        server.shutdown()
    assert not any(
        name.startswith(("rtms_ingest_commands", "assistant_jobs")) for name, _ in samples
    )


def test_the_embedded_ingest_shows_its_figures_once_it_runs() -> None:
    running: list[Supervisor] = []
    registry = CollectorRegistry()
    registry.register(RunningIngestCollector(lambda: running[0] if running else None))
    server, _ = start_http_server(0, "127.0.0.1", registry)
    try:
        port = int(server.server_port)
        idle = scrape(port)
        running.append(supervisor())
        running[0].ended_totals.update({"audio_frames": 3})
        live = scrape(port)
    finally:
        server.shutdown()
    assert ("rtms_ingest_streams_held", ()) not in idle
    assert figure(live, "rtms_ingest_streams_held") == 0
    assert figure(live, "rtms_ingest_audio_frames_total") == 3
