"""The storage sink: one stream's transcript, chat, participants and states, through the services.

One stream's writes land in the order they arrive: the client awaits each sink call before it
makes the next (per connection; the signaling and media sockets of a stream deliver
independently, and the meeting row lock orders their writes).

Through a database outage each write waits for the database (`run_db_through_outage`, up to
`RTMS_DB_RETRY_S`) while the stream's later data waits in its sockets' bounded backlogs. A write
given up after that is counted and recorded as one gap before the next write the database takes.
That count lives in this object only: on a kill it is lost with the writes it counts.

Every write is fenced (assistant.services.fencing): it carries the generation of the stream's
lease, and once the app refuses it (another ingest took the stream over) the sink writes
nothing more and tells the supervisor through the fence, which drops the connection.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from assistant import languages
from assistant.models import Meeting, TranscriptSegment
from assistant.services import meetings, participants, speech
from assistant.services.chat import record_chat
from assistant.services.fencing import StaleWriter, hand_over, write_as
from assistant.services.transcript import SegmentInput, record_segment
from rtms_ingest.client.sink import GapSpan, StreamStatus
from rtms_ingest.cluster.sinks import WriterFence
from rtms_ingest.protocol import BinaryContent, MediaType, TextContent
from rtms_ingest.storage import metrics
from rtms_ingest.storage.database import RETRYABLE, run_db, run_db_through_outage

log = logging.getLogger(__name__)

# The client's connection states are meeting states of the same name.
MEETING_STATES: dict[StreamStatus, Meeting.State] = {
    StreamStatus.CONNECTING: Meeting.State.CONNECTING,
    StreamStatus.LIVE: Meeting.State.LIVE,
    StreamStatus.RECONNECTING: Meeting.State.RECONNECTING,
    StreamStatus.ENDED: Meeting.State.ENDED,
    StreamStatus.FAILED: Meeting.State.FAILED,
}


@dataclass
class Unstored:
    """Writes given up without the database, and where they were on the stream clock."""

    count: int = 0
    from_ms: int | None = None
    to_ms: int | None = None

    def add(self, at_ms: int | None) -> None:
        self.count += 1
        if at_ms is not None:
            self.from_ms = at_ms if self.from_ms is None else min(self.from_ms, at_ms)
            self.to_ms = at_ms if self.to_ms is None else max(self.to_ms, at_ms)

    def detail(self) -> str:
        writes = "write" if self.count == 1 else "writes"
        return (
            f"{self.count} stream {writes} (transcript, chat, participants or states) not "
            f"stored: no database for over {settings.RTMS_DB_RETRY_S:g} s"
        )


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
        self._unstored = Unstored()

    async def stream_state(
        self, state: StreamStatus, detail: str = "", reason: int | None = None
    ) -> None:
        if state == self._state and not detail:
            return
        self._state = state
        # The end of a meeting is written once: whoever ends it first (Zoom's stop webhook, this
        # stream, another ingest's) says how; a later end or failure changes nothing.
        finished = state in (StreamStatus.ENDED, StreamStatus.FAILED)
        change = meetings.finish_if_open if finished else meetings.set_state
        await self._write(None, change, MEETING_STATES[state], detail=detail, reason=reason)

    async def gap(self, detail: str, span: GapSpan) -> None:
        await self._write(
            span.from_ms,
            meetings.record_gap,
            detail,
            from_ms=span.from_ms,
            to_ms=span.to_ms,
            frames_lost=span.frames_lost,
        )

    async def participant_joined(self, user_id: int, user_name: str, at_ms: int | None) -> None:
        await self._write(at_ms, participants.record_join, user_id, user_name, at_ms)

    async def participant_left(
        self, user_id: int, user_name: str | None, at_ms: int | None
    ) -> None:
        await self._write(at_ms, participants.record_leave, user_id, user_name, at_ms)

    async def active_speaker(self, user_id: int, user_name: str, at_ms: int | None) -> None:
        await self._write(at_ms, participants.record_active_speaker, user_id, user_name, at_ms)

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
            language=languages.reported_code(content.language),
        )
        await self._write(int(content.timestamp), record_segment, segment)

    async def chat(self, content: TextContent) -> None:
        at_ms = int(content.timestamp)
        await self._write(
            at_ms, record_chat, content.user_id, content.user_name or "", at_ms, content.data
        )

    async def audio(self, content: BinaryContent) -> None:
        """Not wanted: audio goes to the sinks that want it (speech recognition)."""

    async def sharing(
        self, user_id: int | None, user_name: str, started: bool, at_ms: int | None
    ) -> None:
        return None  # the slides sink (rtms_ingest/storage/slides.py) keeps what is shown

    async def share(self, content: BinaryContent) -> None:
        return None

    async def video(self, content: BinaryContent) -> None:
        return None

    async def handing_over(self) -> None:
        """The stream goes to a successor: what we still read stays ours to write (fencing)."""
        await run_db(hand_over, self.meeting_id, self.fence.generation)

    async def _write(
        self, at_ms: int | None, service: Callable[..., object], *args: Any, **kwargs: Any
    ) -> None:
        """Store one thing: `service(meeting_id, ...)`, waiting out a database outage.

        `at_ms` is where it was on the stream clock (None when it has no place there). A write
        given up is counted and raised (the client logs it); the gap it leaves is recorded
        first thing once the database takes writes again.
        """
        if self.fence.stale.is_set():
            return  # another ingest holds the stream now: what it delivers is that ingest's
        try:
            if self._unstored.count:
                unstored = self._unstored
                await self._call(
                    meetings.record_gap,
                    unstored.detail(),
                    from_ms=unstored.from_ms,
                    to_ms=unstored.to_ms,
                    frames_lost=unstored.count,
                )
                self._unstored = Unstored()
            await self._call(service, *args, **kwargs)
        except RETRYABLE:
            self._unstored.add(at_ms)
            metrics.DB_WRITES_GIVEN_UP.inc()
            raise
        except StaleWriter as exc:
            log.warning("%s: not written (%s)", getattr(service, "__name__", service), exc)
            self.fence.refused()

    async def _call(self, service: Callable[..., object], *args: Any, **kwargs: Any) -> None:
        """The one way this sink's writes reach the database: fenced by the lease's generation."""
        await run_db_through_outage(
            write_as,
            self.meeting_id,
            self.fence.generation,
            service,
            self.meeting_id,
            *args,
            **kwargs,
        )


def storage_sink(meeting: Meeting) -> StorageSink:
    """The RTMS_SINKS factory of the storage sink (every stream is stored)."""
    return StorageSink(meeting.pk, native_transcript=speech.wants_native(meeting))
