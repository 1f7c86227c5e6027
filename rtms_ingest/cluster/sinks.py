"""A stream's consumers as one sink: each gets the media it wants; a failing one spoils no other.

The supervisor knows no consumer by name. It asks its `StreamStore` (the app side, chosen by
configuration) for a stream's sinks, and asks Zoom only for the media that some sink wants.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from rtms_ingest.client.sink import GapSpan, StreamSink, StreamStatus
from rtms_ingest.cluster.commands import StreamCommand
from rtms_ingest.protocol import BinaryContent, MediaType, StopReason, TextContent

__all__ = ["MediaSink", "SinkSet", "StreamOver", "StreamStore", "WriterFence"]

log = logging.getLogger(__name__)

# Stream events (states, gaps, participants) go to every sink, whatever media it wants.
_EVERY_SINK = MediaType(0)


class MediaSink(StreamSink, Protocol):
    """A StreamSink that says which media it consumes (the others never reach it)."""

    wants: MediaType


class StreamOver(Exception):
    """A rejoin found the stream's record finished: there is nothing to rejoin."""


@dataclass
class WriterFence:
    """The lease generation a stream's sinks write under, and whether the app refused it.

    The app refuses a write under a generation older than one it has seen for the stream: then
    another ingest holds the stream, and this one must stop (`stale` is set) without writing.
    """

    generation: int = 0
    stale: asyncio.Event = field(default_factory=asyncio.Event)

    def refused(self) -> None:
        """A write was refused: a newer holder wrote for this stream."""
        self.stale.set()


class StreamStore(Protocol):
    """The app side of the ingest: where streams are recorded and what consumes them."""

    async def open(self, command: StreamCommand, fence: WriterFence) -> SinkSet:
        """The stream's record (created on first sight) and its sinks, writing under `fence`.

        A new stream is put in the connecting state; a rejoined one is left as it is.
        """

    async def reopen(self, command: StreamCommand, fence: WriterFence) -> SinkSet:
        """The stream's sinks anew, as its record says now (a changed choice of media)."""

    async def end_unheld(self, rtms_stream_id: str, stop_reason: int | None) -> None:
        """Zoom stopped a stream that no ingest holds: end its record if it is still open."""


class SinkSet:
    """Implements StreamSink over several sinks, in order; media only to the sinks that want it.

    Every sink is called even when an earlier one fails; the first failure is then raised, so
    the client counts and logs it as it does for a single sink.
    """

    def __init__(
        self, sinks: Sequence[MediaSink], *, transcript_language: int | None = None
    ) -> None:
        self.sinks = tuple(sinks)
        # The stream's record says which language Zoom's transcript is asked in (a
        # TranscriptLanguage; None: Zoom detects it).
        self.transcript_language = transcript_language
        self.wants = MediaType(0)
        for sink in self.sinks:
            self.wants |= sink.wants
        self._audio_sinks = [sink for sink in self.sinks if sink.wants & MediaType.AUDIO]
        self._stopped_by_zoom = False
        self._zoom_reason: int | None = None

    def taking_over_from(self, earlier: SinkSet) -> None:
        """Keep what the earlier set of the same stream knew (Zoom's stop)."""
        self._stopped_by_zoom = earlier._stopped_by_zoom
        self._zoom_reason = earlier._zoom_reason

    async def handing_over(self) -> None:
        """This ingest lets the stream go to a successor: sinks that write say so first.

        Then what they still deliver (read before the successor's handshake ended our
        connection) is theirs to write, though the successor writes under a newer lease.
        """
        for sink in self.sinks:
            handing_over = getattr(sink, "handing_over", None)
            if handing_over is not None:
                await handing_over()

    async def close(self) -> None:
        """Let sinks that hold work (cut audio) finish it: the set is being replaced."""
        for sink in self.sinks:
            closing = getattr(sink, "close", None)
            if closing is not None:
                await closing()

    @property
    def stopped_by_zoom(self) -> bool:
        """Whether Zoom's stop webhook came for the stream (it ends, whoever holds it)."""
        return self._stopped_by_zoom

    def zoom_stopped(self, reason: int | None) -> None:
        """Zoom's stop webhook came: if we have to close the stream, its reason is Zoom's."""
        self._stopped_by_zoom = True
        self._zoom_reason = reason

    async def stream_state(
        self, state: StreamStatus, detail: str = "", reason: int | None = None
    ) -> None:
        if (
            state == StreamStatus.ENDED
            and self._stopped_by_zoom
            and reason == StopReason.RECEIVER_REQUEST_CLOSE
        ):
            detail = "stopped by Zoom"
            reason = reason if self._zoom_reason is None else self._zoom_reason
        await self._each(_EVERY_SINK, lambda sink: sink.stream_state(state, detail, reason))

    async def gap(self, detail: str, span: GapSpan) -> None:
        await self._each(_EVERY_SINK, lambda sink: sink.gap(detail, span))

    async def participant_joined(self, user_id: int, user_name: str, at_ms: int | None) -> None:
        await self._each(
            _EVERY_SINK, lambda sink: sink.participant_joined(user_id, user_name, at_ms)
        )

    async def participant_left(
        self, user_id: int, user_name: str | None, at_ms: int | None
    ) -> None:
        await self._each(_EVERY_SINK, lambda sink: sink.participant_left(user_id, user_name, at_ms))

    async def active_speaker(self, user_id: int, user_name: str, at_ms: int | None) -> None:
        await self._each(_EVERY_SINK, lambda sink: sink.active_speaker(user_id, user_name, at_ms))

    async def transcript(self, content: TextContent) -> None:
        await self._each(MediaType.TRANSCRIPT, lambda sink: sink.transcript(content))

    async def chat(self, content: TextContent) -> None:
        await self._each(MediaType.CHAT, lambda sink: sink.chat(content))

    async def audio(self, content: BinaryContent) -> None:
        # Audio is most of the traffic: straight to the sinks that want it.
        if len(self._audio_sinks) == 1:
            await self._audio_sinks[0].audio(content)
            return
        await self._each(MediaType.AUDIO, lambda sink: sink.audio(content))

    async def sharing(
        self, user_id: int | None, user_name: str, started: bool, at_ms: int | None
    ) -> None:
        await self._each(_EVERY_SINK, lambda sink: sink.sharing(user_id, user_name, started, at_ms))

    async def share(self, content: BinaryContent) -> None:
        await self._each(MediaType.DESKSHARE, lambda sink: sink.share(content))

    async def video(self, content: BinaryContent) -> None:
        await self._each(MediaType.VIDEO, lambda sink: sink.video(content))

    async def _each(self, media: MediaType, call: Callable[[MediaSink], Awaitable[None]]) -> None:
        """Call every sink that wants `media` (every sink for _EVERY_SINK)."""
        failure: Exception | None = None
        for sink in self.sinks:
            if media and not (sink.wants & media):
                continue
            try:
                await call(sink)
            except Exception as exc:
                if failure is not None:
                    log.exception("%s failed too", type(sink).__name__)
                failure = failure or exc
        if failure is not None:
            raise failure
