"""Many live streams in one process: one task per stream, cluster-wide leases, hand-overs.

What happens to the streams held here when this process goes:
- SIGTERM (a deploy, a scale-down) with another ingest alive: each stream is handed over. Its
  lease is released and a rejoin queued; the successor's fresh handshake makes Zoom drop our
  connection, and only then does ours stop (make before break), so captions go on.
- SIGTERM with no other ingest alive: nobody could rejoin, so each stream is closed at Zoom
  (STREAM_CLOSE_REQ) and its meeting ends cleanly, rather than hanging until Zoom gives up.
- A crash (SIGKILL, lost machine): the leases stop being renewed and run out; another ingest
  finds the live streams nobody holds (`Registry.unheld`) and rejoins them.
- Paused past the lease (SIGSTOP, a long GC or swap): the stream is taken over meanwhile; once
  awake, the writes of this process are refused by the fence (the lease's generation) and the
  connection is dropped without a word to Zoom or the meeting.
STREAM_CLOSE_REQ is otherwise sent only when the stream is stopped on purpose.

No Django: what a stream feeds, and where it is recorded, is the `StreamStore` it is given.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import socket
import ssl
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from rtms_ingest.client import (
    HandshakeRejected,
    RtmsCredentials,
    RtmsStreamClient,
    StreamTarget,
    UrlPolicy,
    UrlRefused,
)
from rtms_ingest.client.backoff import Backoff
from rtms_ingest.client.channel import DelayHistogram
from rtms_ingest.cluster.admission import LoadGauge
from rtms_ingest.cluster.command_queue import CommandQueue, Queued
from rtms_ingest.cluster.commands import (
    HANDOVER_EVENT,
    MEETING_DELETED_EVENT,
    TAKEOVER_EVENT,
    StreamCommand,
)
from rtms_ingest.cluster.departure import Departure, quietly
from rtms_ingest.cluster.leases import LeaseInDoubt, Leases, claim
from rtms_ingest.cluster.live_stream import LiveStream, rejoin_detail, stat_totals
from rtms_ingest.cluster.registry import Registry, SoloRegistry
from rtms_ingest.cluster.sinks import StreamOver, StreamStore, WriterFence
from rtms_ingest.protocol import MediaType, StopReason

log = logging.getLogger(__name__)


def new_holder_id() -> str:
    """A name for this ingest process that is unique in the cluster."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


# While a command is being acted on for longer than this, the queue is told it still is.
TOUCH_EVERY_S = 5.0
# On shutdown, how long background work (cluster loop, re-queues) may take to stop.
BACKGROUND_STOP_S = 2.0


@dataclass
class Supervisor:
    """Takes stream commands from the queue and runs one RTMS client per stream."""

    queue: CommandQueue
    leases: Leases
    credentials: RtmsCredentials
    store: StreamStore
    holder_id: str = field(default_factory=new_holder_id)
    registry: Registry = field(default_factory=SoloRegistry)
    # Short, so that a crashed holder's streams are taken over within seconds; renewed every
    # third of it, so a loop may stall for two thirds of it before the lease is at risk.
    lease_ttl_s: float = 6.0
    # How often this ingest beats and looks for live streams nobody holds (jittered).
    sweep_interval_s: float = 1.0
    # On SIGTERM, how long a handed-over stream waits for its successor before we drop it.
    handover_timeout_s: float = 10.0
    max_streams: int = 500
    ssl_context: ssl.SSLContext | None = None
    # Where streams may connect (RTMS_ALLOWED_HOSTS): Zoom's hosts over wss:// unless told.
    url_policy: UrlPolicy = field(default_factory=UrlPolicy)
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
    # Streams moved between ingests: handed_over (by us, on SIGTERM), rejoined_handover and
    # rejoined_takeover (by us, from another), lost (taken from us: we were paused or cut off).
    moves: Counter[str] = field(default_factory=Counter)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)
    _opening: set[str] = field(default_factory=set)
    _leaving: asyncio.Event = field(default_factory=asyncio.Event)  # shutting down
    _start_failures: dict[str, int] = field(default_factory=dict)
    _queue_failures: int = 0
    _queue_backoff: Backoff = field(default_factory=lambda: Backoff(0.5, 5.0))

    async def run(self, stopping: asyncio.Event) -> None:
        """Serve commands until `stopping` is set, then close every stream gracefully."""
        log.info("ingest %s ready", self.holder_id)
        if self.gauge is not None:
            self._background(self.gauge.run())
        self._background(self._beat())
        self._background(self._look_after_streams())
        try:
            while not stopping.is_set():
                queued = await self._next_command(stopping)
                if queued is not None:
                    await self._act_on(queued)
        finally:
            await self.shutdown()

    async def _act_on(self, queued: Queued) -> None:
        """Handle a queued command, then acknowledge it (it is delivered again if we die first)."""
        acting = asyncio.create_task(self.handle(queued.command))
        while True:
            done, _ = await asyncio.wait({acting}, timeout=TOUCH_EVERY_S)
            if done:
                break
            try:
                await self.queue.touch(queued)
            except Exception:
                log.warning("could not tell the queue we still act on a command", exc_info=True)
        try:
            await self.queue.ack(queued)
        except Exception:
            # Delivered again later: acting twice on a command is harmless (see handle).
            log.warning(
                "command %s for stream %s not acknowledged",
                queued.command.action,
                queued.command.rtms_stream_id,
                exc_info=True,
            )

    async def _next_command(self, stopping: asyncio.Event) -> Queued | None:
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
        """Act on one command; a failure is logged and never stops the supervisor.

        Acting twice on the same command changes nothing more than acting once: a second start
        finds the stream held (here: a reconnect at most; elsewhere: forwarded), a second stop
        finds it stopping or ended.
        """
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
        if live is not None or stream_id in self._opening:
            if live is not None and not command.rejoin and not live.handed_over:
                # Zoom sends rtms_started again when its RTMS server failed: go to the new URL.
                log.info("stream %s restarted by Zoom: reconnecting", stream_id)
                if live.client.reconnect(command.server_urls):
                    live.command = command
                    await self._remember(command)
            elif live is not None and live.handed_over:
                await self.queue.put(command)  # for the successor: we are leaving
            return
        self._opening.add(stream_id)
        try:
            await self._start_here(command)
        finally:
            self._opening.discard(stream_id)

    async def _start_here(self, command: StreamCommand) -> None:
        stream_id = command.rtms_stream_id
        refusal = self._refusal()
        if refusal is not None:
            # Left in the queue for another ingest (or for us once there is room again).
            log.warning("stream %s left for another ingest: %s", stream_id, refusal)
            await self.queue.put(command)
            await asyncio.sleep(1.0)
            return
        try:
            claimed = await claim(self.leases, stream_id, self.holder_id, self.lease_ttl_s)
        except LeaseInDoubt:
            self._retry_later(command, "its lease kept changing hands")
            return
        except Exception:
            log.exception("stream %s: could not take its lease", stream_id)
            self._retry_later(command, "its lease could not be taken")
            return
        if isinstance(claimed, str):
            if not command.rejoin:  # a rejoin someone else already made needs nothing more
                await self.queue.forward(claimed, command)
            return
        fence = WriterFence(claimed)
        try:
            live = await self._open(command, fence)
        except StreamOver as exc:
            log.info("stream %s not rejoined: %s", stream_id, exc)
            await self._release(stream_id)
            await self._forget(stream_id)
            return
        except Exception:
            log.exception("stream %s could not start", stream_id)
            await self._release(stream_id)
            self._retry_later(command, "it could not start")
            return
        self._start_failures.pop(stream_id, None)
        self.streams[stream_id] = live
        live.task = asyncio.create_task(self._run_stream(stream_id, live))
        if command.rejoin:
            self.moves[
                "rejoined_handover" if command.event == HANDOVER_EVENT else "rejoined_takeover"
            ] += 1
        await self._remember(command)

    async def _open(self, command: StreamCommand, fence: WriterFence) -> LiveStream:
        """The stream's record and sinks (connecting), and a client not yet running."""
        sink = await self.store.open(command, fence)
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
            rejoining=rejoin_detail(command),
            resume_from_ms=command.last_ms,
            url_policy=self.url_policy,
            transcript_language=sink.transcript_language,
        )
        return LiveStream(client=client, sink=sink, command=command, fence=fence)

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
        sinks = await self.store.reopen(command, live.fence)
        media = sinks.wants & self.media
        if not media:
            log.warning(
                "stream %s: no sink wants anything now; kept as it was", command.rtms_stream_id
            )
            return
        previous, live.sink = live.sink, sinks
        sinks.taking_over_from(previous)
        if live.client.use_sink(sinks, media, sinks.transcript_language):
            log.info("stream %s: reconnecting for %r", command.rtms_stream_id, media)
            live.client.reconnect()
        self._background(previous.close())

    async def _stop(self, command: StreamCommand) -> None:
        stream_id = command.rtms_stream_id
        live = self.streams.get(stream_id)
        if live is not None and command.event == MEETING_DELETED_EVENT:
            log.info("stream %s: its meeting was deleted; closing it now", stream_id)
            self._background(live.client.close())
            return
        if live is not None:
            live.sink.zoom_stopped(command.stop_reason)
            self._background(self._close_later(stream_id, live))
            return
        holder = await self.leases.holder(stream_id)
        if holder is not None and holder != self.holder_id:
            await self.queue.forward(holder, command)
            return
        await self._forget(stream_id)  # Zoom ended it: nobody is to rejoin it
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
        keeping = live.keep_lease(self.leases, self.holder_id, self.lease_ttl_s)
        live.keeper = asyncio.create_task(keeping)
        reason: int | None = None
        try:
            reason = await live.client.run()
            log.info("stream %s ended here (reason %s)", stream_id, reason)
        except UrlRefused as exc:
            # Never connected: a webhook, a queued command or a signaling answer named a server
            # that is not Zoom's (or plain ws://). Logged with the host only, never the query.
            log.error("stream %s: %s", stream_id, exc)
            reason = StopReason.UNDEFINED
            await live.report_failure(f"{exc}; the stream was not joined", reason)
        except HandshakeRejected as exc:
            log.warning("stream %s refused by RTMS: %s", stream_id, exc)
            reason = StopReason.AUTHENTICATION_FAILURE
            what = "rejoin refused" if live.command.rejoin else "handshake refused"
            await live.report_failure(f"{what}: {exc}", reason)
        except Exception:
            log.exception("stream %s crashed", stream_id)
            await live.report_failure("ingest error", StopReason.INTERNAL_EXCEPTION)
            reason = StopReason.INTERNAL_EXCEPTION
        finally:
            live.keeper.cancel()
            await asyncio.gather(live.keeper, return_exceptions=True)
            self.streams.pop(stream_id, None)
            self.ended_totals.update(stat_totals(live.client.stats))
            self.ended_keepalive_delay.add(live.client.stats.keepalive_delay)
            if live.abandoned:
                self.moves["lost"] += 1
            if reason is None:
                # Handed over or taken from us: the sinks finish what they hold (cut audio).
                await quietly(live.sink.close(), "close its sinks", stream_id)
            elif not live.abandoned:
                await self._forget(stream_id)  # over for good: nobody is to rejoin it
            await self._release(stream_id)

    async def _release(self, stream_id: str) -> None:
        try:
            await self.leases.release(stream_id, self.holder_id)
        except Exception:
            log.warning("stream %s: lease not released (it runs out)", stream_id, exc_info=True)

    async def _remember(self, command: StreamCommand) -> None:
        await quietly(self.registry.remember(command), "remember it", command.rtms_stream_id)

    async def _forget(self, stream_id: str) -> None:
        await quietly(self.registry.forget(stream_id), "forget it", stream_id)

    # --- the cluster: beats, dead ingests' inboxes, streams nobody holds ---------------------

    async def _beat(self) -> None:
        """Say we are alive and reap dead ingests' inboxes, about once a second.

        A task of its own: a slow takeover (a database retry, many streams) never delays it,
        or peers and the orphan sweep would count us dead.
        """
        await self._every_sweep("beat", self._beat_once)

    async def _beat_once(self) -> None:
        await self.registry.beat(self.holder_id)
        await self.registry.reap()

    async def _look_after_streams(self) -> None:
        """Rejoin live streams nobody holds, about once a second."""
        await self._every_sweep("look for unheld streams", self._take_over_unheld)

    async def _every_sweep(self, what: str, work: Callable[[], Awaitable[None]]) -> None:
        """Run `work` every sweep interval (jittered) until we leave; failures logged once."""
        failures = 0
        while not self._leaving.is_set():
            try:
                await work()
                failures = 0
            except Exception:
                if not failures:
                    log.warning("could not %s; retrying", what, exc_info=True)
                failures += 1
            pause = self.sweep_interval_s * random.uniform(0.5, 1.5)  # noqa: S311
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._leaving.wait(), pause)

    async def _take_over_unheld(self) -> None:
        """Rejoin the live streams whose holder stopped renewing their lease (it died)."""
        for command in await self.registry.unheld():
            if command.rtms_stream_id in self.streams or self._refusal() is not None:
                continue
            log.warning("stream %s: nobody holds it; rejoining it here", command.rtms_stream_id)
            if command.event != HANDOVER_EVENT:  # a hand-over's successor: as it was queued
                command = command.rejoined(TAKEOVER_EVENT, "", None)
            await self._start(command)

    # --- shutdown -----------------------------------------------------------------------------

    async def shutdown(self, timeout_s: float = 10.0) -> None:
        """Hand every stream over to another ingest, or close it if none is alive to take it."""
        self._leaving.set()  # the cluster loops end by themselves even if a library eats a cancel
        # Out of the cluster at once, so that ingests stopping with us never count us alive.
        await quietly(self.registry.leave(self.holder_id), "leave the cluster", self.holder_id)
        pending_work = list(self._tasks)
        for task in pending_work:
            task.cancel()
        if pending_work:
            await asyncio.wait(pending_work, timeout=BACKGROUND_STOP_S)
        departure = Departure(
            self.holder_id, self.queue, self.leases, self.registry, self.handover_timeout_s
        )
        handed_over = await departure.leave(list(self.streams.values()), timeout_s)
        self.moves["handed_over"] += handed_over
