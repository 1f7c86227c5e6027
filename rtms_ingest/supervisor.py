"""Many live streams in one process: one task per stream, cluster-wide leases, graceful shutdown."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import ssl
import uuid
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any

from asgiref.sync import sync_to_async

from assistant.models import Meeting
from assistant.services import meetings
from rtms_ingest.client import HandshakeRejected, RtmsCredentials, RtmsStreamClient, StreamTarget
from rtms_ingest.command_queue import CommandQueue
from rtms_ingest.django_sink import DjangoStreamSink
from rtms_ingest.leases import Leases
from rtms_ingest.protocol import MediaType, StopReason
from rtms_ingest.sink import StreamSink
from rtms_ingest.stream_commands import StreamCommand

log = logging.getLogger(__name__)


def new_holder_id() -> str:
    """A name for this ingest process that is unique in the cluster."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass
class LiveStream:
    """A stream this process holds."""

    meeting_id: int
    client: RtmsStreamClient
    task: asyncio.Task[None] | None = None
    stop_requested: bool = False


@dataclass
class Supervisor:
    """Takes stream commands from the queue and runs one RTMS client per stream."""

    queue: CommandQueue
    leases: Leases
    credentials: RtmsCredentials
    holder_id: str = field(default_factory=new_holder_id)
    lease_ttl_s: float = 30.0
    max_streams: int = 500
    ssl_context: ssl.SSLContext | None = None
    media: MediaType = MediaType.TRANSCRIPT | MediaType.CHAT | MediaType.AUDIO
    keepalive_timeout_s: float = 65.0
    streams: dict[str, LiveStream] = field(default_factory=dict)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    async def run(self, stopping: asyncio.Event) -> None:
        """Serve commands until `stopping` is set, then close every stream gracefully."""
        log.info("ingest %s ready", self.holder_id)
        try:
            while not stopping.is_set():
                command = await self.queue.get(timeout_s=1.0)
                if command is not None:
                    await self.handle(command)
        finally:
            await self.shutdown()

    async def handle(self, command: StreamCommand) -> None:
        """Act on one command; a failure is logged and never stops the supervisor."""
        try:
            if command.action == "start":
                await self._start(command)
            elif command.action == "interrupt":
                await self._interrupt(command)
            else:
                await self._stop(command)
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
        if len(self.streams) >= self.max_streams:
            log.warning("stream %s left for another ingest: at capacity", stream_id)
            await self.queue.put(command)
            await asyncio.sleep(1.0)
            return
        if not await self.leases.acquire(stream_id, self.holder_id, self.lease_ttl_s):
            holder = await self.leases.holder(stream_id)
            if holder and holder != self.holder_id:
                await self.queue.forward(holder, command)
            return
        meeting, _ = await sync_to_async(meetings.open_stream)(
            product=command.product,
            zoom_id=command.zoom_id,
            rtms_stream_id=stream_id,
            operator_id=command.operator_id,
        )
        target = StreamTarget(command.product, command.zoom_id, stream_id, command.server_urls)
        sink = DjangoStreamSink(meeting.pk)
        await sink.stream_state("connecting")
        client = RtmsStreamClient(
            target,
            self.credentials,
            sink,
            media=self.media,
            keepalive_timeout_s=self.keepalive_timeout_s,
            ssl_context=self.ssl_context,
        )
        live = LiveStream(meeting_id=meeting.pk, client=client)
        self.streams[stream_id] = live
        live.task = asyncio.create_task(self._run_stream(stream_id, live, sink))

    async def _interrupt(self, command: StreamCommand) -> None:
        live = self.streams.get(command.rtms_stream_id)
        if live is not None:
            live.client.reconnect(None)
        elif (holder := await self.leases.holder(command.rtms_stream_id)) is not None:
            await self.queue.forward(holder, command)

    async def _stop(self, command: StreamCommand) -> None:
        live = self.streams.get(command.rtms_stream_id)
        if live is not None:
            live.stop_requested = True
            # Zoom also ends the stream on the socket; give that a moment before closing.
            self._background(self._close_later(command.rtms_stream_id, delay_s=5.0))
            return
        holder = await self.leases.holder(command.rtms_stream_id)
        if holder is not None and holder != self.holder_id:
            await self.queue.forward(holder, command)
            return
        await sync_to_async(_end_if_open)(command.rtms_stream_id, command.stop_reason)

    def _background(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _close_later(self, stream_id: str, delay_s: float) -> None:
        await asyncio.sleep(delay_s)
        live = self.streams.get(stream_id)
        if live is not None:
            await live.client.close()

    async def _run_stream(self, stream_id: str, live: LiveStream, sink: StreamSink) -> None:
        renewer = asyncio.create_task(self._keep_lease(stream_id, live))
        try:
            reason = await live.client.run()
            log.info("stream %s ended (reason %s)", stream_id, reason)
        except HandshakeRejected as exc:
            log.warning("stream %s refused by RTMS: %s", stream_id, exc)
            await sink.stream_state(
                "failed", f"handshake refused: {exc}", int(StopReason.AUTHENTICATION_FAILURE)
            )
        except Exception:
            log.exception("stream %s crashed", stream_id)
            await sink.stream_state("failed", "ingest error", int(StopReason.INTERNAL_EXCEPTION))
        finally:
            renewer.cancel()
            self.streams.pop(stream_id, None)
            await self.leases.release(stream_id, self.holder_id)

    async def _keep_lease(self, stream_id: str, live: LiveStream) -> None:
        while True:
            await asyncio.sleep(self.lease_ttl_s / 3)
            if not await self.leases.renew(stream_id, self.holder_id, self.lease_ttl_s):
                log.error("lost the lease of stream %s: closing our connection", stream_id)
                await live.client.close()
                return

    async def shutdown(self, timeout_s: float = 10.0) -> None:
        """Close every stream with STREAM_CLOSE_REQ and wait for their tasks."""
        for task in self._tasks:
            task.cancel()
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


def _end_if_open(stream_id: str, stop_reason: int | None) -> None:
    """A stop for a stream no ingest holds: make sure its meeting is marked ended."""
    meeting = Meeting.objects.filter(rtms_stream_id=stream_id).first()
    if meeting is not None and meeting.is_live:
        meetings.set_state(
            meeting.pk, Meeting.State.ENDED, detail="stopped by Zoom", reason=stop_reason
        )
