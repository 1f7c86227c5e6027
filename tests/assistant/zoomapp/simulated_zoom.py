"""The project's simulator, RTMS and Zoom's REST/OAuth side together, on an event loop in a thread.

For tests of sync code (Django views through the test client, or processes of their own) that
call the simulated Zoom over real HTTP while it keeps playing its streams.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from rtms_ingest.simulator import RtmsSimulator, SimulatorConfig
from rtms_ingest.simulator.fixture import RecordedMeeting
from rtms_ingest.simulator.live_meetings import LiveMeeting

T = TypeVar("T")


class SimulatedZoom:
    """`with SimulatedZoom(meeting, config) as zoom:` zoom.api_url, zoom.oauth_url, zoom.sim."""

    def __init__(
        self,
        meeting: RecordedMeeting,
        config: SimulatorConfig,
        consenting_user_id: str | None = None,
    ) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._meeting = meeting
        self._config = config
        self._consenting = consenting_user_id
        self.sim: RtmsSimulator | None = None

    def run(self, coro: Awaitable[T], timeout_s: float = 30.0) -> T:
        """Run a coroutine on the simulator's loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(_as_coroutine(coro), self.loop).result(timeout_s)

    def call(self, fn: Callable[[], T]) -> T:
        """Run a plain function on the simulator's loop (its state belongs to that loop)."""

        async def wrapped() -> T:
            return fn()

        return self.run(wrapped())

    @property
    def simulator(self) -> RtmsSimulator:
        assert self.sim is not None
        return self.sim

    @property
    def oauth_url(self) -> str:
        """ZOOM_OAUTH_BASE_URL."""
        assert self.simulator.zoom_api is not None
        return self.simulator.zoom_api.base_url

    @property
    def api_url(self) -> str:
        """ZOOM_API_BASE_URL."""
        return f"{self.oauth_url}/v2"

    def open_meeting(self, host_user_id: str, **fields: Any) -> LiveMeeting:
        """A meeting in progress that `host_user_id` hosts (RTMS off)."""
        return self.call(lambda: self.simulator.live_meetings.open(host_user_id, **fields))

    def __enter__(self) -> SimulatedZoom:
        self._thread.start()

        async def start() -> RtmsSimulator:
            sim = RtmsSimulator(self._meeting, self._config)
            await sim.start()
            await sim.serve_zoom_api(consenting_user_id=self._consenting)
            return sim

        self.sim = self.run(start())
        return self

    def __exit__(self, *exc: object) -> None:
        if self.sim is not None:
            self.run(self.sim.close())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        self.loop.close()


async def _as_coroutine(awaitable: Awaitable[T]) -> T:
    return await awaitable
