"""RtmsStreamClient.abandon(): drop the sockets of a stream another receiver took over."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from rtms_ingest.protocol import MsgType
from rtms_ingest.simulator.simulator import RtmsSimulator
from tests.rtms_ingest.client.stream_support import (
    RecordingSink,
    sim_config,
    start_playing,
    until,
)

pytestmark = pytest.mark.timeout(30)


async def test_abandon_drops_the_sockets_without_closing_or_ending_the_stream(
    small_meeting: Any,
) -> None:
    sink = RecordingSink()
    async with RtmsSimulator(small_meeting, sim_config(speed=1.0)) as sim:
        stream, client, playing, running = start_playing(sim, sink)
        await until(lambda: len(sink.transcripts) >= 1)

        client.abandon()

        assert await asyncio.wait_for(running, 5) is None
        received = list(stream.report.received)
        await client.close()  # a later close() sends nothing either
        playing.cancel()
        await asyncio.gather(playing, return_exceptions=True)
    assert MsgType.STREAM_CLOSE_REQ not in received
    assert MsgType.STREAM_CLOSE_REQ not in stream.report.received
    assert sink.state_names[-1] == "live", "no ended, failed or reconnecting state reported"
    assert not sink.gaps
