"""An ingest leaving the cluster (SIGTERM): its streams handed over to the others, or closed.

With another ingest alive, each stream is handed over: the app is told first (what we still
read stays ours to write), the client streams on until the successor's handshake makes Zoom
drop our connection, the lease is released and a rejoin queued. With nobody alive, each stream
is closed at Zoom (STREAM_CLOSE_REQ): nobody could rejoin it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any

from rtms_ingest.cluster.command_queue import CommandQueue
from rtms_ingest.cluster.commands import HANDOVER_EVENT
from rtms_ingest.cluster.leases import Leases
from rtms_ingest.cluster.live_stream import LiveStream
from rtms_ingest.cluster.registry import Registry

__all__ = ["Departure", "quietly"]

log = logging.getLogger(__name__)

# After leaving the cluster: time for ingests signalled with us to leave too (siblings of one
# `run_ingest --processes N` get SIGTERM together, but may notice it a second apart).
LEAVE_SETTLE_S = 1.5


async def quietly(work: Coroutine[Any, Any, object], what: str, stream_id: str) -> None:
    """Await housekeeping whose failure is logged and never stops a stream or the supervisor."""
    try:
        await work
    except Exception:
        log.warning("stream %s: could not %s", stream_id, what, exc_info=True)


@dataclass
class Departure:
    """How one ingest lets go of the streams it holds when it stops."""

    holder_id: str
    queue: CommandQueue
    leases: Leases
    registry: Registry
    handover_timeout_s: float

    async def leave(self, streams: list[LiveStream], timeout_s: float) -> int:
        """Hand the streams over (or close them), wait for their tasks; how many handed over.

        Call it once this ingest has left the registry and stopped reading commands.
        """
        # The caller has left the cluster already: ingests stopping with us (siblings of one
        # `run_ingest --processes N`, signalled together) must not count us, nor we them.
        if not streams:
            await quietly(self.registry.return_inbox(self.holder_id), "return our inbox", "-")
            return 0
        await asyncio.sleep(LEAVE_SETTLE_S)
        handed_over = 0
        # A stream Zoom has stopped is closed either way: a successor's rejoin would be refused.
        to_close = [live for live in streams if live.sink.stopped_by_zoom]
        to_hand_over = [live for live in streams if not live.sink.stopped_by_zoom]
        if to_hand_over and await self._successors_possible():
            log.info("handing %d streams over to the other ingests", len(to_hand_over))
            await asyncio.gather(*(self._hand_over(live) for live in to_hand_over))
            handed_over = len(to_hand_over)
            await wait_for(to_hand_over, self.handover_timeout_s)
            for live in to_hand_over:
                live.client.abandon()  # no successor came in time: it rejoins when it comes
        else:
            to_close += to_hand_over
        if to_close:
            log.info("closing %d streams (no other ingest to hand them to)", len(to_close))
            await asyncio.gather(*(live.client.close() for live in to_close))
        await wait_for(streams, timeout_s)
        # What was forwarded to us while we let go: for the streams' new holders.
        await quietly(
            self.registry.return_inbox(self.holder_id), "return our inbox", self.holder_id
        )
        return handed_over

    async def _successors_possible(self) -> bool:
        """Whether another ingest may rejoin our streams (yes when we cannot tell)."""
        try:
            return await self.registry.others_alive(self.holder_id) > 0
        except Exception:
            # Redis is down: the streams stay registered, and whoever sees them unheld once it
            # answers again rejoins them. Closing them would end live meetings for nothing.
            log.warning("could not count the other ingests: handing over", exc_info=True)
            return True

    async def _hand_over(self, live: LiveStream) -> None:
        """Let go of one stream for a successor, streaming on until its handshake ends ours."""
        stream_id = live.stream_id
        # Said before the lease goes: once a successor writes, only this lets our last writes in.
        await quietly(live.sink.handing_over(), "say it is handed over", stream_id)
        live.let_go()
        if live.keeper is not None:
            await asyncio.gather(live.keeper, return_exceptions=True)
        rejoin = live.command.rejoined(HANDOVER_EVENT, self.holder_id, live.client.last_ms)
        rejoin = dataclasses.replace(rejoin, server_urls=live.client.signaling_url)
        # Registered first: an ingest that finds it unheld before the queued rejoin is read
        # rejoins it as a hand-over too (where it was, which ingest let it go).
        await quietly(self.registry.remember(rejoin), "register its rejoin", stream_id)
        await quietly(self.leases.release(stream_id, self.holder_id), "release it", stream_id)
        # If this fails the lease runs out and the stream is found unheld all the same.
        await quietly(self.queue.put(rejoin), "queue its rejoin", stream_id)


async def wait_for(streams: list[LiveStream], timeout_s: float) -> None:
    """Wait for the streams' tasks to end, cancelling those still running after timeout_s."""
    tasks = [live.task for live in streams if live.task is not None and not live.task.done()]
    if not tasks:
        return
    _, pending = await asyncio.wait(tasks, timeout=timeout_s)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
