"""One stream held by this process: its client, its sinks, its lease and what it has counted."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from dataclasses import dataclass

from rtms_ingest.client import RtmsStreamClient
from rtms_ingest.client.channel import ClientStats
from rtms_ingest.client.sink import StreamStatus
from rtms_ingest.cluster.commands import HANDOVER_EVENT, TAKEOVER_EVENT, StreamCommand
from rtms_ingest.cluster.leases import LeaseKeeper, Leases
from rtms_ingest.cluster.sinks import SinkSet, WriterFence
from rtms_ingest.protocol import StopReason

__all__ = ["COUNTED_STATS", "LiveStream", "rejoin_detail", "stat_totals"]

log = logging.getLogger(__name__)

COUNTED_STATS = (
    "audio_frames",
    "frames_dropped",
    "frames_discarded",
    "gaps_recorded",
    "keepalives_answered",
    "malformed_frames",
    "reconnects",
    "media_reconnects",
    "sink_errors",
    "unknown_frames",
    "audio_bytes",
    "chat_group_events",
    "odd_lengths",
)


def stat_totals(stats: ClientStats) -> Counter[str]:
    """The counters of one client that metrics add up (and every frame parsed, any type)."""
    totals = Counter({name: getattr(stats, name) for name in COUNTED_STATS})
    totals["frames_received"] = sum(stats.frames.values())
    return totals


def rejoin_detail(command: StreamCommand) -> str:
    """What the meeting's log says when a rejoin goes live ("" for a first start)."""
    if command.event == HANDOVER_EVENT:
        return f"rejoined: handed over by ingest {command.previous_holder} (shutting down)"
    if command.event == TAKEOVER_EVENT:
        return "rejoined: taken over from an ingest that stopped renewing its lease"
    return ""


@dataclass
class LiveStream:
    """A stream this process holds."""

    client: RtmsStreamClient
    sink: SinkSet
    command: StreamCommand  # what rejoins it
    fence: WriterFence
    task: asyncio.Task[None] | None = None
    abandoned: bool = False  # another ingest holds it now: we report nothing more
    handed_over: bool = False  # we let go of it for a successor
    keeper: asyncio.Task[None] | None = None

    @property
    def stream_id(self) -> str:
        return self.command.rtms_stream_id

    async def report_failure(self, detail: str, reason: StopReason) -> None:
        """Tell the sinks the stream failed (unless it is another ingest's now)."""
        if self.abandoned:
            return
        try:
            await self.sink.stream_state(StreamStatus.FAILED, detail, int(reason))
        except Exception:
            log.exception("stream %s: could not record its failure", self.stream_id)

    async def keep_lease(self, leases: Leases, holder: str, ttl_s: float) -> None:
        """Renew the lease; drop the connection once another ingest holds the stream.

        Found either way: the lease names another holder, or the app refused a write of ours
        (the fence), which a newer holder's write makes so.
        """

        def retaken(generation: int) -> None:
            self.fence.generation = generation

        keeper = LeaseKeeper(leases, self.stream_id, holder, ttl_s, retaken)
        keeping = asyncio.create_task(keeper.keep())
        fenced = asyncio.create_task(self.fence.stale.wait())
        try:
            await asyncio.wait({keeping, fenced}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (keeping, fenced):
                task.cancel()
            await asyncio.gather(keeping, fenced, return_exceptions=True)
        other = keeping.result() if keeping.done() and not keeping.cancelled() else None
        # Closing it (STREAM_CLOSE_REQ) or ending the meeting would end it for the new holder.
        log.error(
            "stream %s is held by %s now: dropping our connection",
            self.stream_id,
            other or "a newer ingest (our write was refused)",
        )
        self.abandoned = True
        self.client.abandon()

    def let_go(self) -> None:
        """For a successor: stream on until its handshake ends ours, and keep no lease."""
        self.handed_over = True
        self.client.leave_on_drop()
        if self.keeper is not None:
            self.keeper.cancel()
