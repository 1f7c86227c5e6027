"""What the RTMS client does with each signaling message, and how a signaling connection ends."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from rtms_ingest.client.delivery import SinkDelivery
from rtms_ingest.client.media import MediaLink
from rtms_ingest.client.sink import StreamStatus
from rtms_ingest.client.video_follow import SpeakerFollower
from rtms_ingest.protocol import (
    EventType,
    EventUpdate,
    Message,
    SessionState,
    SessionStateUpdate,
    StopReason,
    StreamCloseResponse,
    StreamState,
    StreamStateUpdate,
    VideoSubscriptionResponse,
)

__all__ = ["Outcome", "SignalingHandler"]

log = logging.getLogger("rtms_ingest.client")


@dataclass(frozen=True)
class Outcome:
    """How one signaling connection ended, and what the run loop should do next."""

    kind: Literal["ended", "dropped", "reconnect"]
    detail: str
    reason: int | None = None  # stop reason, for "ended"
    no_answer: bool = False  # closed before the handshake answer (a bad signature on Zoom)
    since: float | None = None  # monotonic time the data stopped, if earlier than now


def _state_name(enum: type[StreamState | SessionState], value: int) -> str:
    try:
        return enum(value).name.lower()
    except ValueError:
        return f"state {value}"


def _reason_name(reason: int) -> str:
    try:
        return StopReason(reason).name
    except ValueError:
        return f"reason {reason}"


class SignalingHandler:
    """Acts on signaling messages; `handle` returns an Outcome when the connection must end."""

    def __init__(
        self,
        delivery: SinkDelivery,
        links: Sequence[MediaLink],
        closing: Callable[[], bool],
        stream_id: str,
        follower: SpeakerFollower | None = None,
    ) -> None:
        self._delivery = delivery
        self._links = links
        self._closing = closing
        self._stream_id = stream_id
        self._follower = follower  # set when the stream takes one camera (video)

    async def handle(self, message: Message) -> Outcome | None:
        """Act on one signaling message."""
        if isinstance(message, EventUpdate):
            await self._on_event(message)
        elif isinstance(message, StreamStateUpdate):
            return await self._on_stream_state(message)
        elif isinstance(message, SessionStateUpdate):
            await self._on_session_state(message)
        elif isinstance(message, VideoSubscriptionResponse):
            if self._follower is not None:
                self._follower.answered(message)
        elif isinstance(message, StreamCloseResponse):
            log.info(
                "stream %s: close acknowledged (status %d)", self._stream_id, message.status_code
            )
            if self._closing():
                return Outcome("ended", "closed by receiver", StopReason.RECEIVER_REQUEST_CLOSE)
        elif not await self._delivery.media(message):
            # Media data on signaling is unexpected but harmless to deliver; anything else is
            # a reply we do not need (e.g. a late handshake answer).
            log.debug(
                "stream %s: signaling msg_type %s ignored", self._stream_id, type(message).MSG_TYPE
            )
        return None

    async def _on_event(self, message: EventUpdate) -> None:
        if message.event.event_type == EventType.MEDIA_CONNECTION_INTERRUPTED:
            # §5 (c): only the media sockets need to come back; signaling stays up.
            log.warning(
                "stream %s: media connection interrupted; reconnecting media", self._stream_id
            )
            for link in self._links:
                link.restart()
            return
        await self._delivery.event(message.event)
        event = message.event
        if (
            self._follower is not None
            and event.event_type == EventType.ACTIVE_SPEAKER_CHANGE
            and event.user_id is not None
        ):
            await self._follower.follow(event.user_id)

    async def _on_stream_state(self, message: StreamStateUpdate) -> Outcome | None:
        state = message.state
        if state == StreamState.TERMINATED:
            reason = message.reason
            if self._closing() and reason == StopReason.UNDEFINED:
                reason = StopReason.RECEIVER_REQUEST_CLOSE
            return Outcome("ended", f"stream terminated ({_reason_name(reason)})", reason)
        if state == StreamState.INTERRUPTED:
            return Outcome("reconnect", "stream interrupted")
        name = _state_name(StreamState, state)
        if state in (StreamState.PAUSED, StreamState.RESUMED):
            await self._delivery.state(StreamStatus.LIVE, f"stream {name}")
        else:
            log.info(
                "stream %s: stream state %s (reason %d)", self._stream_id, name, message.reason
            )
        return None

    async def _on_session_state(self, message: SessionStateUpdate) -> None:
        name = _state_name(SessionState, message.state)
        if message.state in (SessionState.PAUSED, SessionState.RESUMED):
            await self._delivery.state(StreamStatus.LIVE, f"session {name}")
        else:
            log.info(
                "stream %s: session %s %s (reason %d)",
                self._stream_id,
                message.rtms_session_id,
                name,
                message.reason,
            )
