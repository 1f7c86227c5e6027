"""Many live streams in one process: one task per stream, cluster-wide leases, graceful shutdown.

No Django: what a stream feeds, and where it is recorded, is the `StreamStore` it is given.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import ssl
import uuid
from collections import Counter
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any

from rtms_ingest.client import HandshakeRejected, RtmsCredentials, RtmsStreamClient, StreamTarget
from rtms_ingest.client.backoff import Backoff
from rtms_ingest.client.channel import ClientStats, DelayHistogram
from rtms_ingest.client.sink import StreamStatus
from rtms_ingest.cluster.admission import LoadGauge
from rtms_ingest.cluster.command_queue import CommandQueue
from rtms_ingest.cluster.commands import StreamCommand
from rtms_ingest.cluster.leases import LeaseInDoubt, LeaseKeeper, Leases, claim
from rtms_ingest.cluster.sinks import SinkSet, StreamStore
from rtms_ingest.protocol import MediaType, StopReason

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
)


def stat_totals(stats: ClientStats) -> Counter[str]:
    """The counters of one client that metrics add up (and every frame parsed, any type)."""
    totals = Counter({name: getattr(stats, name) for name in COUNTED_STATS})
    totals["frames_received"] = sum(stats.frames.values())
    return totals


def new_holder_id() -> str:
    """A name for this ingest process that is unique in the cluster."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass
class LiveStream:
    """A stream this process holds."""

    client: RtmsStreamClient
    sink: SinkSet
    task: asyncio.Task[None] | None = None
    abandoned: bool = False  # another ingest holds it now: we report nothing more


@dataclass
class Supervisor:
    """Takes stream commands from the queue and runs one RTMS client per stream."""

    queue: CommandQueue
    leases: Leases
    credentials: RtmsCredentials
    store: StreamStore
    holder_id: str = field(default_factory=new_holder_id)
    lease_ttl_s: float = 30.0
    max_streams: int = 500
    ssl_context: ssl.SSLContext | None = None
    # The most it may ask Zoom for; it asks for what the stream's sinks want within that.
    media: MediaType = MediaType.TRANSCRIPT | MediaType.CHAT | MediaType.AUDIO
    keepalive_timeout_s: float = 65.0
    media_backlog_bytes: int = 4 * 1024 * 1024
    # Ask Zoom for the audio it kept between the webhook and our connecting (passed on as is).
    buffer_data: bool = True
    # Zoom also ends a stopped stream on the socket; this long after its stop webhook, we close.
    stop_grace_s: float = 5.0
    start_attempts: int = 3  # tries of a start that fails after its lease was taken
    retry_delay_s: float = 1.0  # times the attempt number, before a failed start is re-queued
    # Admission by load (event-loop lag, CPU); None admits up to max_streams.
    gauge: LoadGauge | None = None
    streams: dict[str, LiveStream] = field(default_factory=dict)
    # Counters of the streams that ended here, so that process totals never go backwards.
    ended_totals: Counter[str] = field(default_factory=Counter)
    ended_keepalive_delay: DelayHistogram = field(default_factory=DelayHistogram)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)
    _start_failures: dict[str, int] = field(default_factory=dict)
    _queue_failures: int = 0
    _queue_backoff: Backoff = field(default_factory=lambda: Backoff(0.5, 5.0))

    async def run(self, stopping: asyncio.Event) -> None:
        """Serve commands until `stopping` is set, then close every stream gracefully."""
        log.info("ingest %s ready", self.holder_id)
        if self.gauge is not None:
            self._background(self.gauge.run())
        try:
            while not stopping.is_set():
                command = await self._next_command(stopping)
                if command is not None:
                    await self.handle(command)
        finally:
            await self.shutdown()

    async def _next_command(self, stopping: asyncio.Event) -> StreamCommand | None:
        """The next command; a failing queue is logged once per outage and retried."""
        try:
            command = await self.queue.get(timeout_s=1.0)
        except Exception:
            if not self._queue_failures:
                log.exception("the command queue failed; retrying until it answers")
            self._queue_failures += 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), self._queue_backoff.next_delay())
            return None
        if self._queue_failures:
            log.info("the command queue answers again after %d failures", self._queue_failures)
            self._queue_failures = 0
            self._queue_backoff.reset()
        return command

    async def handle(self, command: StreamCommand) -> None:
        """Act on one command; a failure is logged and never stops the supervisor."""
        try:
            if command.action == "start":
                await self._start(command)
            elif command.action == "interrupt":
                await self._interrupt(command)
            elif command.action == "stop":
                await self._stop(command)
            elif command.action == "reconfigure":
                await self._reconfigure(command)
            else:
                log.warning("ignored unknown action %r", command.action)
        except Exception:
            log.exception("command %s for stream %s failed", command.action, command.rtms_stream_id)

    async def _start(self, command: StreamCommand) -> None:
        stream_id = command.rtms_stream_id
        live = self.streams.get(stream_id)
        if live is not None:
            # Zoom sends rtms_started again when its RTMS server failed: go to the new URL.
            log.info("stream %s restarted by Zoom: reconnecting", stream_id)
            live.client.reconnect(command.server_urls)
            return
        refusal = self._refusal()
        if refusal is not None:
            # Left in the queue for another ingest (or for us once there is room again).
            log.warning("stream %s left for another ingest: %s", stream_id, refusal)
            await self.queue.put(command)
            await asyncio.sleep(1.0)
            return
        try:
            holder = await claim(self.leases, stream_id, self.holder_id, self.lease_ttl_s)
        except LeaseInDoubt:
            self._retry_later(command, "its lease kept changing hands")
            return
        except Exception:
            log.exception("stream %s: could not take its lease", stream_id)
            self._retry_later(command, "its lease could not be taken")
            return
        if holder is not None:
            await self.queue.forward(holder, command)
            return
        try:
            live = await self._open(command)
        except Exception:
            log.exception("stream %s could not start", stream_id)
            await self._release(stream_id)
            self._retry_later(command, "it could not start")
            return
        self._start_failures.pop(stream_id, None)
        self.streams[stream_id] = live
        live.task = asyncio.create_task(self._run_stream(stream_id, live))

    async def _open(self, command: StreamCommand) -> LiveStream:
        """The stream's record and sinks (connecting), and a client not yet running."""
        sink = await self.store.open(command)
        media = sink.wants & self.media
        if not media:
            raise ValueError(f"no sink of this stream wants any of {self.media!r}")
        target = StreamTarget(
            command.product, command.zoom_id, command.rtms_stream_id, command.server_urls
        )
        client = RtmsStreamClient(
            target,
            self.credentials,
            sink,
            media=media,
            keepalive_timeout_s=self.keepalive_timeout_s,
            ssl_context=self.ssl_context,
            buffer_data=self.buffer_data,
            media_backlog_bytes=self.media_backlog_bytes,
        )
        return LiveStream(client=client, sink=sink)

    def _retry_later(self, command: StreamCommand, why: str) -> None:
        """Re-queue a start that failed here, after a pause; give up after start_attempts."""
        stream_id = command.rtms_stream_id
        attempt = self._start_failures.get(stream_id, 0) + 1
        if attempt >= self.start_attempts:
            self._start_failures.pop(stream_id, None)
            log.error("stream %s: %s; gave up after %d attempts", stream_id, why, attempt)
            return
        self._start_failures[stream_id] = attempt
        log.warning("stream %s: %s; re-queued (attempt %d)", stream_id, why, attempt)
        self._background(self._requeue(command, self.retry_delay_s * attempt))

    async def _requeue(self, command: StreamCommand, delay_s: float) -> None:
        try:
            await asyncio.sleep(delay_s)
        finally:
            # Also when shutting down: another ingest can take it.
            try:
                await self.queue.put(command)
            except Exception:
                log.exception("stream %s: could not re-queue its start", command.rtms_stream_id)

    def totals(self) -> Counter[str]:
        """Client counters summed over every stream this process held (for metrics)."""
        totals = Counter(self.ended_totals)
        # A copy: metrics call this from their HTTP thread while the loop adds and ends streams.
        for live in list(self.streams.values()):
            totals.update(stat_totals(live.client.stats))
        return totals

    def keepalive_delay(self) -> DelayHistogram:
        """Keep-alive delays over every stream this process held (for metrics)."""
        total = DelayHistogram()
        total.add(self.ended_keepalive_delay)
        for live in list(self.streams.values()):
            total.add(live.client.stats.keepalive_delay)
        return total

    def backlog_bytes(self) -> int:
        """Bytes read off the media sockets of the streams held and not yet delivered."""
        return sum(live.client.stats.backlog_bytes() for live in list(self.streams.values()))

    def _refusal(self) -> str | None:
        """Why this ingest must not take another stream now, or None."""
        if len(self.streams) >= self.max_streams:
            return f"at capacity ({self.max_streams} streams)"
        if self.gauge is not None:
            return self.gauge.refusal(len(self.streams))
        return None

    async def _interrupt(self, command: StreamCommand) -> None:
        live = self.streams.get(command.rtms_stream_id)
        if live is not None:
            live.client.reconnect(None)
            return
        holder = await self.leases.holder(command.rtms_stream_id)
        if holder is not None and holder != self.holder_id:
            await self.queue.forward(holder, command)
        else:
            log.info("interrupt for stream %s that no ingest runs: ignored", command.rtms_stream_id)

    async def _reconfigure(self, command: StreamCommand) -> None:
        """The stream's record changed what it feeds: new sinks, and new media if they differ."""
        live = self.streams.get(command.rtms_stream_id)
        if live is None:
            holder = await self.leases.holder(command.rtms_stream_id)
            if holder is not None and holder != self.holder_id:
                await self.queue.forward(holder, command)
            return
        sinks = await self.store.reopen(command)
        media = sinks.wants & self.media
        if not media:
            log.warning(
                "stream %s: no sink wants anything now; kept as it was", command.rtms_stream_id
            )
            return
        previous, live.sink = live.sink, sinks
        sinks.taking_over_from(previous)
        if live.client.use_sink(sinks, media):
            log.info("stream %s: reconnecting for %r", command.rtms_stream_id, media)
            live.client.reconnect()
        self._background(previous.close())

    async def _stop(self, command: StreamCommand) -> None:
        stream_id = command.rtms_stream_id
        live = self.streams.get(stream_id)
        if live is not None:
            live.sink.zoom_stopped(command.stop_reason)
            self._background(self._close_later(stream_id, live))
            return
        holder = await self.leases.holder(stream_id)
        if holder is not None and holder != self.holder_id:
            await self.queue.forward(holder, command)
            return
        await self.store.end_unheld(stream_id, command.stop_reason)

    def _background(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _close_later(self, stream_id: str, live: LiveStream) -> None:
        await asyncio.sleep(self.stop_grace_s)
        if self.streams.get(stream_id) is live:
            await live.client.close()

    async def _run_stream(self, stream_id: str, live: LiveStream) -> None:
        keeper = asyncio.create_task(self._keep_lease(stream_id, live))
        try:
            reason = await live.client.run()
            log.info("stream %s ended here (reason %s)", stream_id, reason)
        except HandshakeRejected as exc:
            log.warning("stream %s refused by RTMS: %s", stream_id, exc)
            reason = StopReason.AUTHENTICATION_FAILURE
            await self._report_failure(live, f"handshake refused: {exc}", reason)
        except Exception:
            log.exception("stream %s crashed", stream_id)
            await self._report_failure(live, "ingest error", StopReason.INTERNAL_EXCEPTION)
        finally:
            keeper.cancel()
            await asyncio.gather(keeper, return_exceptions=True)
            self.streams.pop(stream_id, None)
            self.ended_totals.update(stat_totals(live.client.stats))
            self.ended_keepalive_delay.add(live.client.stats.keepalive_delay)
            await self._release(stream_id)

    async def _report_failure(self, live: LiveStream, detail: str, reason: StopReason) -> None:
        if live.abandoned:
            return  # the stream is another ingest's now
        try:
            await live.sink.stream_state(StreamStatus.FAILED, detail, int(reason))
        except Exception:
            log.exception(
                "stream %s: could not record its failure", live.client.target.rtms_stream_id
            )

    async def _keep_lease(self, stream_id: str, live: LiveStream) -> None:
        keeper = LeaseKeeper(self.leases, stream_id, self.holder_id, self.lease_ttl_s)
        holder = await keeper.keep()
        # Closing it (STREAM_CLOSE_REQ) or ending the meeting would end it for the new holder.
        log.error("stream %s is held by %s now: dropping our connection", stream_id, holder)
        live.abandoned = True
        live.client.abandon()

    async def _release(self, stream_id: str) -> None:
        try:
            await self.leases.release(stream_id, self.holder_id)
        except Exception:
            log.warning("stream %s: lease not released (it runs out)", stream_id, exc_info=True)

    async def shutdown(self, timeout_s: float = 10.0) -> None:
        """Close every stream with STREAM_CLOSE_REQ and wait for their tasks."""
        pending_work = list(self._tasks)
        for task in pending_work:
            task.cancel()
        await asyncio.gather(*pending_work, return_exceptions=True)
        streams = list(self.streams.values())
        if not streams:
            return
        log.info("closing %d streams", len(streams))
        await asyncio.gather(*(s.client.close() for s in streams), return_exceptions=True)
        tasks = [s.task for s in streams if s.task is not None]
        _, pending = await asyncio.wait(tasks, timeout=timeout_s)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
