"""Hands what an RTMS stream delivers to its `StreamSink` (a sink failure never ends a stream)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Sequence

from rtms_ingest.client.channel import ClientStats, LogThrottle
from rtms_ingest.client.sink import GapSpan, StreamSink, StreamStatus
from rtms_ingest.protocol import (
    AudioData,
    ChatData,
    EventType,
    Message,
    RtmsEvent,
    ShareData,
    TranscriptData,
    VideoData,
)
from rtms_ingest.protocol.enums import CHAT_GROUP_EVENTS

__all__ = ["SinkDelivery"]

log = logging.getLogger("rtms_ingest.client")


class SinkDelivery:
    """Calls the sink for media data and participant events, logging and counting its errors."""

    def __init__(
        self, sink: StreamSink, stats: ClientStats, throttle: LogThrottle, stream_id: str
    ) -> None:
        self._sink = sink
        self._stats = stats
        self._throttle = throttle
        self._stream_id = stream_id
        # Stream clock of the last media delivered: where a gap found by the stream (not by one
        # socket, which keeps its own) begins.
        self.last_ms: int | None = None

    def use(self, sink: StreamSink) -> None:
        """Deliver to `sink` from now on (a reconfigured stream)."""
        self._sink = sink

    async def call(self, what: str, call: Awaitable[None]) -> None:
        """Await one sink call; an exception is logged (rate-limited) and the stream goes on."""
        try:
            await call
        except Exception:
            self._failed(what)

    def _odd_length(self, said: int, got: int) -> None:
        """A frame whose `length` (reference §7) is not its data's size: logged, data kept.

        What Zoom counts in `length` is UNCONFIRMED, so the data as sent is what counts.
        """
        self._stats.odd_lengths += 1
        held = self._throttle.allow("odd-length")
        if held is not None:
            log.warning(
                "stream %s: audio frame says length %d but carries %d bytes; kept as sent "
                "(%d more held back)",
                self._stream_id,
                said,
                got,
                held,
            )

    def _failed(self, what: str) -> None:
        """Count and log (rate-limited) the sink exception being handled."""
        self._stats.sink_errors += 1
        held = self._throttle.allow(f"sink:{what}")
        if held is not None:
            log.exception(
                "stream %s: sink.%s failed (%d more failures held back); continuing",
                self._stream_id,
                what,
                held,
            )

    async def state(self, state: StreamStatus, detail: str = "", reason: int | None = None) -> None:
        """Report a connection state to the sink."""
        await self.call("stream_state", self._sink.stream_state(state, detail, reason))

    async def gap(self, detail: str, span: GapSpan) -> None:
        """Tell the sink that data may have been lost, and where on the stream clock."""
        await self.call("gap", self._sink.gap(detail, span))

    async def media(self, message: Message) -> bool:
        """Deliver transcript, chat, audio, share or video data; False if it is none of those."""
        return not await self.media_many((message,))

    async def media_many(self, messages: Sequence[Message]) -> list[Message]:
        """Deliver transcript, chat and audio data in order; the messages that are none of those."""
        stats = self._stats
        ignored: list[Message] = []
        for message in messages:
            if type(message) is AudioData:  # most of the traffic: checked first, called directly
                content = message.content
                stats.audio_frames += 1
                stats.audio_bytes += len(content.data)
                self.last_ms = content.timestamp
                if content.length is not None and content.length != len(content.data):
                    self._odd_length(content.length, len(content.data))
                try:
                    await self._sink.audio(content)
                except Exception:
                    self._failed("audio")
            elif isinstance(message, TranscriptData):
                self.last_ms = message.content.timestamp
                await self.call("transcript", self._sink.transcript(message.content))
            elif isinstance(message, ChatData):
                self.last_ms = message.content.timestamp
                await self.call("chat", self._sink.chat(message.content))
            elif isinstance(message, ShareData):
                stats.share_frames += 1
                await self.call("share", self._sink.share(message.content))
            elif isinstance(message, VideoData):
                stats.video_frames += 1
                await self.call("video", self._sink.video(message.content))
            else:
                ignored.append(message)
        return ignored

    async def event(self, event: RtmsEvent) -> None:
        """Deliver a participant join/leave or an active speaker change; log the others."""
        at = event.timestamp
        if event.event_type == EventType.PARTICIPANT_JOIN:
            for p in event.participants:
                # Zoom always names joiners; an empty name beats dropping the join.
                name = p.user_name or ""
                await self.call(
                    "participant_joined", self._sink.participant_joined(p.user_id, name, at)
                )
        elif event.event_type == EventType.PARTICIPANT_LEAVE:
            for p in event.participants:
                await self.call(
                    "participant_left", self._sink.participant_left(p.user_id, p.user_name, at)
                )
        elif event.event_type == EventType.ACTIVE_SPEAKER_CHANGE:
            if event.user_id is None:
                log.info("stream %s: active speaker event without user_id", self._stream_id)
                return
            name = event.user_name or ""
            await self.call("active_speaker", self._sink.active_speaker(event.user_id, name, at))
        elif event.event_type in (EventType.SHARING_START, EventType.SHARING_STOP):
            # The events' fields are UNCONFIRMED (reference §2.8): the sharer is read from
            # `user_id`, else from the first of `participants`.
            sharer = event.participants[0] if event.participants else None
            user_id = (
                event.user_id if event.user_id is not None else getattr(sharer, "user_id", None)
            )
            name = event.user_name or getattr(sharer, "user_name", None) or ""
            started = event.event_type == EventType.SHARING_START
            await self.call("sharing", self._sink.sharing(user_id, name, started, at))
        elif event.event_type in CHAT_GROUP_EVENTS:
            # Chat groups (reference §7): the reference names the events but not their fields,
            # too little to store or show; counted and logged (the type and time, no content).
            self._stats.chat_group_events += 1
            log.info(
                "stream %s: %s at %s not stored (its fields are unconfirmed)",
                self._stream_id,
                EventType(event.event_type).name,
                at,
            )
        else:
            log.debug("stream %s: event %s ignored", self._stream_id, event.event_type)
