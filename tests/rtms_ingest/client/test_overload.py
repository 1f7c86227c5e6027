"""A client whose sink cannot keep up: every keep-alive answered, every dropped frame a gap.

Against the lean load server of the ingest benchmark (`benchmarks.load_server`, real sockets on
port 0): four speakers' 20 ms audio a stream and a keep-alive a second on every socket. The sink
is made slow on purpose (a fake: a real sink cannot be made this slow on demand).
"""

from __future__ import annotations

import asyncio
import re

from benchmarks.load_server import LoadServer
from rtms_ingest.client import RtmsCredentials, RtmsStreamClient, StreamTarget
from rtms_ingest.client.sink import GapSpan, IgnoringSink, StreamStatus
from rtms_ingest.protocol import BinaryContent, MediaType
from tests.rtms_ingest.loopback import LOOPBACK_POLICY

STREAMS = 3


class SlowSinkFake(IgnoringSink):
    """Takes 25 ms per audio frame (a stream sends one every 5 ms); records gaps and states."""

    def __init__(self) -> None:
        self.frames = 0
        self.gaps: list[str] = []
        self.spans: list[GapSpan] = []
        self.states: list[str] = []

    async def stream_state(
        self, state: StreamStatus, detail: str = "", reason: int | None = None
    ) -> None:
        self.states.append(state)

    async def gap(self, detail: str, span: GapSpan) -> None:
        self.gaps.append(detail)
        self.spans.append(span)

    async def audio(self, content: BinaryContent) -> None:
        self.frames += 1
        await asyncio.sleep(0.025)


async def test_slow_sink_costs_no_keepalive_and_every_dropped_frame_is_a_recorded_gap() -> None:
    server = LoadServer(seconds=3.0, keepalive_interval_s=0.5)
    port = await server.start(STREAMS)
    sinks = [SlowSinkFake() for _ in range(STREAMS)]
    clients = [
        RtmsStreamClient(
            StreamTarget("meeting", f"m{i}==", f"s{i}", f"ws://127.0.0.1:{port}/sig/s{i}"),
            RtmsCredentials("cid", "secret"),
            sink,
            media=MediaType.AUDIO,
            media_backlog_bytes=32 * 1024,  # about 35 frames: overflows within a second
            url_policy=LOOPBACK_POLICY,
        )
        for i, sink in enumerate(sinks)
    ]
    backlog_peak = 0

    async def watch_backlogs() -> None:
        nonlocal backlog_peak
        while True:
            backlog_peak = max(backlog_peak, *(c.stats.backlog_bytes() for c in clients))
            await asyncio.sleep(0.05)

    watcher = asyncio.create_task(watch_backlogs())
    try:
        reasons = await asyncio.wait_for(asyncio.gather(*(c.run() for c in clients)), 60)
    finally:
        watcher.cancel()
        await server.stop()

    report = server.report()
    assert reasons == [6] * STREAMS  # MEETING_ENDED: no stream was dropped for silence
    assert report["keepalives_sent"] > 0
    assert report["keepalives_answered"] == report["keepalives_sent"]
    # The backlog filled up to its bound (metrics show it), and emptied by the end.
    assert 16 * 1024 < backlog_peak <= 32 * 1024 + 2048
    for client, sink in zip(clients, sinks, strict=True):
        stats = client.stats
        assert stats.backlog_bytes() == 0
        # Each answer is timed from the keep-alive's stamp; none waited behind the backlog.
        delays = stats.keepalive_delay
        assert delays.count == stats.keepalives_answered > 0
        assert delays.sum_s / delays.count < 0.25
        assert stats.frames_dropped > 0
        assert stats.reconnects == 0
        # Every frame the server sent was delivered, dropped, or discarded at the end: and
        # each dropped or discarded run of frames is a gap the sink was told about.
        sent = server.streams[client.target.rtms_stream_id].frames_sent
        assert sink.frames + stats.frames_dropped + stats.frames_discarded == sent
        counted = sum(
            int(m.group(1)) for g in sink.gaps if (m := re.search(r"(\d+) (?:media )?frames", g))
        )
        assert counted == stats.frames_dropped + stats.frames_discarded
        during = [g for g in sink.gaps if "frames dropped" in g]
        assert during  # reported while streaming, not only at the end
        assert all(re.search(r"stream clock \d+ ms to \d+ ms", g) for g in during)


async def test_frames_dropped_under_load_are_a_gap_with_its_stream_clock_range_and_count() -> None:
    server = LoadServer(seconds=2.0, keepalive_interval_s=0.5)
    port = await server.start(1)
    sink = SlowSinkFake()
    client = RtmsStreamClient(
        StreamTarget("meeting", "m0==", "s0", f"ws://127.0.0.1:{port}/sig/s0"),
        RtmsCredentials("cid", "secret"),
        sink,
        media=MediaType.AUDIO,
        media_backlog_bytes=32 * 1024,
        url_policy=LOOPBACK_POLICY,
    )
    try:
        assert await asyncio.wait_for(client.run(), 60) == 6
    finally:
        await server.stop()

    stats = client.stats
    during = [
        span
        for detail, span in zip(sink.gaps, sink.spans, strict=True)
        if "frames dropped" in detail
    ]
    assert during
    for span in during:
        assert span.from_ms is not None and span.to_ms is not None
        assert span.from_ms <= span.to_ms  # the server stamps frames with their send time
        assert span.frames_lost is not None and span.frames_lost > 0
    # Each lost frame is counted in exactly one gap, the ones left at the end included.
    assert sum(span.frames_lost or 0 for span in sink.spans) == (
        stats.frames_dropped + stats.frames_discarded
    )
    starts = [span.from_ms or 0 for span in during]  # none is None (checked above)
    assert starts == sorted(starts)  # in stream order
