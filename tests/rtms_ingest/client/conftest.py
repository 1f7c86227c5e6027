"""Fixtures of the client tests: the small meeting and started simulators playing it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from rtms_ingest.simulator.config import SimulatorConfig
from rtms_ingest.simulator.fixture import RecordedMeeting
from rtms_ingest.simulator.simulator import RtmsSimulator
from tests.rtms_ingest.client.stream_support import sim_config, write_small_meeting


@pytest.fixture
def small_meeting(tmp_path: Path) -> RecordedMeeting:
    """Six utterances by three people in six seconds, two chat lines, audio for two."""
    return write_small_meeting(tmp_path)


@pytest.fixture
async def simulator(small_meeting: RecordedMeeting) -> AsyncIterator[Callable[..., Any]]:
    """A factory of started simulators for the small meeting, all closed at the end."""
    started: list[RtmsSimulator] = []

    async def start(config: SimulatorConfig | None = None, meeting: Any = None) -> RtmsSimulator:
        sim = RtmsSimulator(meeting or small_meeting, config or sim_config())
        await sim.start()
        started.append(sim)
        return sim

    yield start
    for sim in started:
        await sim.close()
