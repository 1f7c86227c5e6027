"""One ingest overloaded: keep-alives still answered, extra streams to another, drops as gaps.

Two supervisors share the test Redis queue and leases, as two `run_ingest` processes do. The
first believes a stream costs 60% of a core, so it admits one; its sink is slow on purpose (25 ms
a frame against two speakers' 100 frames a second each), so its media backlog overflows. The
simulator drops any socket whose keep-alive goes unanswered for half a second.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import pytest
from asgiref.sync import sync_to_async
from django.test import override_settings

from assistant.models import ConnectionLogEntry, Meeting
from rtms_ingest.client.sink import IgnoringSink
from rtms_ingest.cluster.admission import LoadGauge
from rtms_ingest.protocol import BinaryContent, MediaType
from rtms_ingest.simulator import RtmsSimulator, SimulatorConfig
from rtms_ingest.simulator.fixture import load_meeting
from rtms_ingest.simulator.report import StreamReport
from tests.rtms_ingest.cluster.supervisor_support import (
    CREDENTIALS,
    meeting_state,
    start_command,
    supervisor,
    until,
)
from tests.rtms_ingest.simulator.fixtures import write_talking_meeting

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(120)]

STREAMS = 3
BACKLOG_BYTES = 32 * 1024  # about 35 frames: overflows within a second of the slow sink


class SlowAudioSink(IgnoringSink):
    """Takes 25 ms for each audio frame (a fake: a real sink cannot be made slow on demand)."""

    wants = MediaType.AUDIO

    async def audio(self, content: BinaryContent) -> None:
        await asyncio.sleep(0.025)


def slow_audio_sink(meeting: Meeting) -> SlowAudioSink:
    return SlowAudioSink()


SINKS = ["rtms_ingest.storage.sink.storage_sink", f"{__name__}.slow_audio_sink"]


@override_settings(RTMS_SINKS=SINKS)
async def test_an_overloaded_ingest_answers_every_keepalive_hands_on_streams_and_records_drops(
    clean_redis: None, tmp_path: Path
) -> None:
    talk = [(101, 0.2, 11.8, "A long report."), (202, 0.2, 11.8, "Talking over it.")]
    recorded = load_meeting(write_talking_meeting(tmp_path, 12.0, talk))
    config = SimulatorConfig(
        client_id=CREDENTIALS.client_id,
        client_secret=CREDENTIALS.client_secret,
        webhook_secret_token="unused",
        speed=2.0,
        keepalive_interval_s=0.25,
        signaling_timeout_s=0.5,  # an answer later than this drops the socket
        media_timeout_s=0.5,
    )
    media = MediaType.AUDIO | MediaType.TRANSCRIPT | MediaType.CHAT
    full = supervisor(
        gauge=LoadGauge(stream_cost=0.6, max_cpu=0.8),
        media=media,
        media_backlog_bytes=BACKLOG_BYTES,
    )
    spare = supervisor(gauge=LoadGauge(), media=media, media_backlog_bytes=BACKLOG_BYTES)
    stopping = asyncio.Event()
    sim = RtmsSimulator(recorded, config)
    await sim.start()
    try:
        streams = [sim.new_stream() for _ in range(STREAMS)]
        playing = [asyncio.create_task(sim.play(s)) for s in streams]
        running = [asyncio.create_task(full.run(stopping))]
        for stream in streams:
            await full.queue.put(start_command(stream))
        await until(lambda: _count_connected(streams, at_least=1))
        await asyncio.sleep(1.0)  # the full one looks at the others and puts them back
        assert len(full.streams) == 1
        assert full.gauge is not None and full.gauge.refused >= 1
        running.append(asyncio.create_task(spare.run(stopping)))

        async def handed_on() -> bool:
            return len(spare.streams) == STREAMS - 1

        # The extra streams are taken by the second ingest; the first keeps its one.
        await until(handed_on, timeout_s=20)
        assert len(full.streams) == 1
        reports: list[StreamReport] = await asyncio.wait_for(asyncio.gather(*playing), 60)
        stopping.set()
        await asyncio.wait_for(asyncio.gather(*running), 20)
    finally:
        await sim.close()

    for stream in streams:
        assert await meeting_state(stream) == Meeting.State.ENDED
    # Every keep-alive on every socket was answered in time, overloaded sink or not.
    for report in reports:
        assert not report.dropped_for_missed_keepalive
        sent = Counter(frame.key[0] for frame in report.sent if frame.kind == "keepalive")
        assert sent and all(count >= 8 for count in sent.values())
        for socket, count in sent.items():
            assert report.keepalive_answers.get(socket, 0) >= count - 1  # the last may cross
    # The slow sink made the first ingest drop frames, and each one is in a recorded gap.
    totals = full.ended_totals + spare.ended_totals
    assert full.ended_totals["frames_dropped"] > 0
    assert await _frames_lost_in_gaps() == totals["frames_dropped"] + totals["frames_discarded"]


async def _count_connected(streams: Sequence[object], at_least: int) -> bool:
    states = [await meeting_state(s) for s in streams]
    return sum(state == Meeting.State.LIVE for state in states) >= at_least


@sync_to_async
def _frames_lost_in_gaps() -> int:
    gaps = ConnectionLogEntry.objects.filter(kind=ConnectionLogEntry.Kind.GAP)
    return sum(entry.frames_lost or 0 for entry in gaps)
