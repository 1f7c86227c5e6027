"""The client and Zoom's buffered audio (reference §7), against the simulator on port 0.

The simulator's clock starts at the webhook and the client connects late, so the audio spoken
before it was ready arrives first, as a burst of frames stamped in the past.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from rtms_ingest.client import RtmsCredentials, RtmsStreamClient, StreamTarget
from rtms_ingest.client.sink import GapSpan, IgnoringSink
from rtms_ingest.cluster.command_queue import InProcessCommandQueue
from rtms_ingest.cluster.commands import StreamCommand, command_from_webhook
from rtms_ingest.cluster.leases import InMemoryLeases
from rtms_ingest.cluster.sinks import SinkSet, WriterFence
from rtms_ingest.cluster.supervisor import Supervisor
from rtms_ingest.protocol import BinaryContent, MediaType
from rtms_ingest.simulator import (
    Faults,
    RtmsSimulator,
    SimulatedStream,
    SimulatorConfig,
    StreamReport,
    expected_audio_bytes,
)
from rtms_ingest.simulator.fixture import RecordedMeeting, load_meeting
from tests.rtms_ingest.loopback import LOOPBACK_POLICY
from tests.rtms_ingest.simulator.fixtures import write_talking_meeting

CLIENT_ID, CLIENT_SECRET = "buffer-client", "buffer-secret"
ANA, BEN = 101, 202
UTTERANCES = [
    (ANA, 0.0, 2.0, "Ana talks before the client is there."),
    (BEN, 2.0, 4.0, "Ben too."),
    (ANA, 4.0, 6.0, "Ana again, live by now."),
    (BEN, 6.0, 7.9, "Ben closes."),
]
DURATION_S, SPEED, LATE_S = 8.0, 4.0, 0.75  # ready at least 3 s of stream time late
FRAME_MS = 20  # what the client asks for: per-speaker 20 ms frames

AudioKey = tuple[int, int, int]  # (user_id, timestamp, PCM bytes), as StreamReport keys audio


class AudioSink(IgnoringSink):
    """A StreamSink that keeps every audio frame with the moment it reached the sink."""

    wants = MediaType.AUDIO | MediaType.TRANSCRIPT

    def __init__(self) -> None:
        self.audio_keys: list[AudioKey] = []
        self.arrived_ns: list[int] = []
        self.states: list[str] = []
        self.gaps: list[str] = []

    async def stream_state(self, state: str, detail: str = "", reason: int | None = None) -> None:
        self.states.append(state)

    async def gap(self, detail: str, span: GapSpan) -> None:
        self.gaps.append(detail)

    async def audio(self, content: BinaryContent) -> None:
        self.arrived_ns.append(time.monotonic_ns())
        assert content.user_id is not None
        self.audio_keys.append((content.user_id, content.timestamp, len(content.data)))


@pytest.fixture
def meeting(tmp_path: Path) -> RecordedMeeting:
    """Eight seconds in which someone is always talking, with audio."""
    return load_meeting(write_talking_meeting(tmp_path, DURATION_S, UTTERANCES))


def config(**overrides: Any) -> SimulatorConfig:
    """The clock starts at the webhook (so there is something to buffer); fast keep-alives."""
    values: dict[str, Any] = {
        "speed": SPEED,
        "clock_start": "webhook",
        "keepalive_interval_s": 0.2,
        "connect_timeout_s": 5.0,
    }
    values.update(overrides)
    return SimulatorConfig(CLIENT_ID, CLIENT_SECRET, "webhook-secret", **values)


@pytest.fixture
async def sim(meeting: RecordedMeeting) -> AsyncIterator[RtmsSimulator]:
    async with RtmsSimulator(meeting, config()) as simulator:
        yield simulator


def make_client(stream: SimulatedStream, sink: Any, **options: Any) -> RtmsStreamClient:
    target = StreamTarget("meeting", stream.owner_id, stream.rtms_stream_id, stream.signaling_url)
    options.setdefault("backoff_initial_s", 0.05)
    options.setdefault("backoff_max_s", 0.2)
    options.setdefault("url_policy", LOOPBACK_POLICY)
    return RtmsStreamClient(target, RtmsCredentials(CLIENT_ID, CLIENT_SECRET), sink, **options)


async def play_late(
    sim: RtmsSimulator, sink: AudioSink, late_s: float = LATE_S, **options: Any
) -> tuple[int | None, StreamReport, RtmsStreamClient]:
    """Play one stream whose client starts `late_s` real seconds after the webhook."""
    stream = sim.new_stream()
    playing = asyncio.create_task(sim.play(stream))
    try:
        await asyncio.sleep(late_s)
        client = make_client(stream, sink, **options)
        reason = await asyncio.wait_for(client.run(), 30)
        report = await asyncio.wait_for(playing, 10)
    finally:
        playing.cancel()
        await asyncio.gather(playing, return_exceptions=True)
    return reason, report, client


def stream_ms(report: StreamReport, keys: list[AudioKey]) -> list[int]:
    """Where each frame starts, in stream ms."""
    assert report.clock_origin_ms is not None
    return [stamp - report.clock_origin_ms for _, stamp, _ in keys]


async def test_late_client_delivers_the_buffered_audio_first_then_live_in_order(
    sim: RtmsSimulator, meeting: RecordedMeeting
) -> None:
    sink = AudioSink()
    reason, report, client = await play_late(sim, sink)

    assert reason == 6 and sink.states == ["live", "ended"] and sink.gaps == []
    assert report.buffer_data == [True]  # sent explicitly, by default
    buffered = report.buffered_audio
    assert buffered is not None and buffered.sent_frames == buffered.due_frames > 0
    assert sink.audio_keys == [frame.key for frame in report.frames("audio")]
    starts = stream_ms(report, sink.audio_keys)
    burst, live = starts[: buffered.sent_frames], starts[buffered.sent_frames :]
    assert burst[0] == 0 and all(start + FRAME_MS <= buffered.ready_ms for start in burst)
    assert live and all(start + FRAME_MS > buffered.ready_ms for start in live)
    total = sum(size for _, _, size in sink.audio_keys)
    assert total == client.stats.audio_bytes == expected_audio_bytes(meeting, 2, FRAME_MS)
    assert len(set(sink.audio_keys)) == len(sink.audio_keys)


async def test_live_audio_after_the_burst_is_not_held_up(sim: RtmsSimulator) -> None:
    sink = AudioSink()
    _, report, _ = await play_late(sim, sink)

    buffered = report.buffered_audio
    assert buffered is not None and buffered.sent_frames > 0
    starts = stream_ms(report, sink.audio_keys)
    late_by_s = [
        (arrived - report.due_ns(start + FRAME_MS)) / 1e9
        for start, arrived in zip(starts, sink.arrived_ns, strict=True)
    ][buffered.sent_frames :]
    # Each live frame reaches the sink about when it is due; the burst delays none of them.
    assert max(late_by_s) < 0.5


async def test_buffer_data_false_delivers_no_audio_from_before_ready(sim: RtmsSimulator) -> None:
    sink = AudioSink()
    reason, report, _ = await play_late(sim, sink, buffer_data=False)

    assert reason == 6
    assert report.buffer_data == [False]
    buffered = report.buffered_audio
    assert buffered is not None and buffered.sent_frames == 0 and buffered.due_frames > 0
    assert sink.audio_keys == [frame.key for frame in report.frames("audio")]
    assert all(start + FRAME_MS > buffered.ready_ms for start in stream_ms(report, sink.audio_keys))


async def test_buffer_data_is_sent_again_when_the_client_reconnects(
    meeting: RecordedMeeting,
) -> None:
    sink = AudioSink()
    faults = Faults(drop_socket_at_s=3.0)
    async with RtmsSimulator(meeting, config(clock_start="ready", faults=faults)) as sim:
        reason, report, client = await play_late(sim, sink, late_s=0.0)

    assert reason == 6 and client.stats.reconnects == 1
    assert report.buffer_data == [True, True]


async def test_supervisor_passes_buffer_data_on_to_every_stream(sim: RtmsSimulator) -> None:
    sink = AudioSink()

    class Store:
        async def open(self, command: StreamCommand, fence: WriterFence) -> SinkSet:
            return SinkSet([sink])

        async def reopen(self, command: StreamCommand, fence: WriterFence) -> SinkSet:
            return SinkSet([sink])

        async def end_unheld(self, rtms_stream_id: str, stop_reason: int | None) -> None:
            pass

    supervisor = Supervisor(
        queue=InProcessCommandQueue(),
        leases=InMemoryLeases(),
        credentials=RtmsCredentials(CLIENT_ID, CLIENT_SECRET),
        store=Store(),
        buffer_data=False,
        url_policy=LOOPBACK_POLICY,
    )
    stream = sim.new_stream()
    playing = asyncio.create_task(sim.play(stream))
    command = command_from_webhook(stream.webhook_payload("meeting.rtms_started"))
    try:
        await supervisor.handle(command)
        report = await asyncio.wait_for(playing, 20)
    finally:
        await supervisor.shutdown()

    assert report.buffer_data == [False]
    assert report.buffered_audio is not None and report.buffered_audio.sent_frames == 0
    assert "live" in sink.states
