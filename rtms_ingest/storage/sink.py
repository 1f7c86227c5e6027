"""The storage sink: one stream's transcript, chat, participants and states, through the services.

One stream's writes land in the order they arrive: the client awaits each sink call before it
makes the next (per connection; the signaling and media sockets of a stream deliver
independently, and the meeting row lock orders their writes).

Every write is fenced (assistant.services.fencing): it carries the generation of the stream's
lease, and once the app refuses it (another ingest took the stream over) the sink writes
nothing more and tells the supervisor through the fence, which drops the connection.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from assistant.models import Meeting, TranscriptSegment
from assistant.services import meetings, participants, speech
from assistant.services.chat import record_chat
from assistant.services.fencing import StaleWriter, write_as
from assistant.services.transcript import SegmentInput, record_segment
from rtms_ingest.client.sink import GapSpan, StreamStatus
from rtms_ingest.cluster.sinks import WriterFence
from rtms_ingest.protocol import BinaryContent, MediaType, TextContent, TranscriptLanguage
from rtms_ingest.storage.database import run_db

log = logging.getLogger(__name__)

# The client's connection states are meeting states of the same name.
MEETING_STATES: dict[StreamStatus, Meeting.State] = {
    StreamStatus.CONNECTING: Meeting.State.CONNECTING,
    StreamStatus.LIVE: Meeting.State.LIVE,
    StreamStatus.RECONNECTING: Meeting.State.RECONNECTING,
    StreamStatus.ENDED: Meeting.State.ENDED,
    StreamStatus.FAILED: Meeting.State.FAILED,
}


def _language_name(code: int | None) -> str:
    if code is None:
        return ""
    try:
        language = TranscriptLanguage(code)
    except ValueError:
        return str(code)
    return "" if language < 0 else language.name.lower()


class StorageSink:
    """Implements MediaSink for one meeting: stores what the stream delivers, then it goes live."""

    def __init__(
        self, meeting_id: int, *, native_transcript: bool = True, fence: WriterFence | None = None
    ) -> None:
        self.meeting_id = meeting_id
        # Zoom's transcript only when the meeting wants it (Zoom bills the whole session then).
        self.wants = MediaType.CHAT | (MediaType.TRANSCRIPT if native_transcript else MediaType(0))
        self.fence = fence or WriterFence()  # the store hands each stream's sinks its own
        self._state: StreamStatus | None = None

    async def _write(self, function: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        """One write of this meeting through the ingest's DB threads, under the lease's fence."""
        if self.fence.stale.is_set():
            return
        try:
            await run_db(
                write_as, self.meeting_id, self.fence.generation, function, *args, **kwargs
            )
        except StaleWriter as exc:
            log.warning("%s: not written (%s)", getattr(function, "__name__", function), exc)
            self.fence.refused()

    async def stream_state(
        self, state: StreamStatus, detail: str = "", reason: int | None = None
    ) -> None:
        if state == self._state and not detail:
            return
        self._state = state
        await self._write(
            meetings.set_state,
            self.meeting_id,
            MEETING_STATES[state],
            detail=detail,
            reason=reason,
        )

    async def gap(self, detail: str, span: GapSpan) -> None:
        await self._write(
            meetings.record_gap,
            self.meeting_id,
            detail,
            from_ms=span.from_ms,
            to_ms=span.to_ms,
            frames_lost=span.frames_lost,
        )

    async def participant_joined(self, user_id: int, user_name: str, at_ms: int | None) -> None:
        await self._write(participants.record_join, self.meeting_id, user_id, user_name, at_ms)

    async def participant_left(
        self, user_id: int, user_name: str | None, at_ms: int | None
    ) -> None:
        await self._write(participants.record_leave, self.meeting_id, user_id, user_name, at_ms)

    async def active_speaker(self, user_id: int, user_name: str, at_ms: int | None) -> None:
        await self._write(
            participants.record_active_speaker, self.meeting_id, user_id, user_name, at_ms
        )

    async def transcript(self, content: TextContent) -> None:
        start = content.start_time if content.start_time is not None else content.timestamp
        end = content.end_time if content.end_time is not None else start
        segment = SegmentInput(
            source=TranscriptSegment.Source.NATIVE,
            speaker_user_id=content.user_id if content.user_id is not None else content.channel_id,
            speaker_name=content.user_name or "",
            start_ms=int(start),
            end_ms=int(end),
            text=content.data,
            language=_language_name(content.language),
        )
        await self._write(record_segment, self.meeting_id, segment)

    async def chat(self, content: TextContent) -> None:
        await self._write(
            record_chat,
            self.meeting_id,
            content.user_id,
            content.user_name or "",
            int(content.timestamp),
            content.data,
        )

    async def audio(self, content: BinaryContent) -> None:
        """Not wanted: audio goes to the sinks that want it (speech recognition)."""


def storage_sink(meeting: Meeting) -> StorageSink:
    """The RTMS_SINKS factory of the storage sink (every stream is stored)."""
    return StorageSink(meeting.pk, native_transcript=speech.wants_native(meeting))
