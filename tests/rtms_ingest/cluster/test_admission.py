"""Admission by capacity: a full ingest leaves new streams in the queue for another ingest."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from assistant.models import Meeting
from rtms_ingest.cluster.admission import LoadGauge
from rtms_ingest.simulator.fixture import RecordedMeeting
from tests.rtms_ingest.cluster.supervisor_support import (
    meeting_state,
    simulator,
    start_command,
    supervisor,
    until,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(90)]


def test_gauge_refuses_while_the_event_loop_is_late() -> None:
    gauge = LoadGauge(max_loop_lag_ms=50)
    gauge._sample(lag_ms=5, cpu=0.1)
    assert gauge.refusal(held=10) is None
    gauge._sample(lag_ms=120, cpu=0.1)
    assert "event loop 120 ms late" in (gauge.refusal(held=10) or "")
    assert gauge.refused == 1


def test_gauge_counts_streams_admitted_before_their_load_shows() -> None:
    gauge = LoadGauge(max_cpu=0.8, stream_cost=0.3)
    gauge._sample(lag_ms=1, cpu=0.1)
    assert gauge.refusal(held=0) is None  # 0.1 + 0.3
    assert gauge.refusal(held=1) is None  # 0.1 + 2 x 0.3: the first is not measured yet
    assert gauge.refusal(held=2) is not None  # 0.1 + 3 x 0.3 > 0.8


async def test_streams_an_overloaded_ingest_refuses_are_taken_by_a_second_one(
    clean_redis: None, long_meeting: RecordedMeeting
) -> None:
    # The first ingest's gauge believes a stream costs 60% of a core: it has room for one.
    full = supervisor(gauge=LoadGauge(stream_cost=0.6, max_cpu=0.8))
    spare = supervisor(gauge=LoadGauge())
    stopping = asyncio.Event()
    async with simulator(long_meeting, speed=1.0) as sim:
        streams = [sim.new_stream() for _ in range(3)]
        playing = [asyncio.create_task(sim.play(s)) for s in streams]
        running = [asyncio.create_task(full.run(stopping))]
        for stream in streams:
            await full.queue.put(start_command(stream))
        await until(lambda: _any_live(streams))
        await asyncio.sleep(1.5)  # the full one sees the others and puts them back
        assert len(full.streams) == 1
        assert full.gauge is not None and full.gauge.refused >= 1
        running.append(asyncio.create_task(spare.run(stopping)))
        await until(lambda: _live(streams), timeout_s=30)
        assert len(full.streams) == 1
        assert len(spare.streams) == 2
        stopping.set()
        await asyncio.wait_for(asyncio.gather(*running), 20)
        for task in playing:
            task.cancel()
        await asyncio.gather(*playing, return_exceptions=True)


async def _live(streams: Sequence[object]) -> bool:
    states = [await meeting_state(s) for s in streams]
    return all(state == Meeting.State.LIVE for state in states)


async def _any_live(streams: Sequence[object]) -> bool:
    return any([await meeting_state(s) == Meeting.State.LIVE for s in streams])
