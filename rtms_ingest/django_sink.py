"""The ingest's adapter to the services: one stream's data, written without blocking the loop."""

from __future__ import annotations

import logging
from typing import Any

from asgiref.sync import sync_to_async

from assistant.models import Meeting, TranscriptSegment
from assistant.services import meetings, participants
from assistant.services.chat import record_chat
from assistant.services.transcript import SegmentInput, record_segment
from rtms_ingest.protocol import BinaryContent, TextContent, TranscriptLanguage

log = logging.getLogger(__name__)

_STATES = {
    "connecting": Meeting.State.CONNECTING,
    "live": Meeting.State.LIVE,
    "reconnecting": Meeting.State.RECONNECTING,
    "ended": Meeting.State.ENDED,
    "failed": Meeting.State.FAILED,
}


def _language_name(code: int | None) -> str:
    if code is None:
        return ""
    try:
        language = TranscriptLanguage(code)
    except ValueError:
        return str(code)
    return "" if language < 0 else language.name.lower()


class DjangoStreamSink:
    """Implements rtms_ingest.sink.StreamSink for one meeting through assistant.services."""

    def __init__(self, meeting_id: int) -> None:
        self.meeting_id = meeting_id
        self.audio_frames = 0
        self.audio_bytes = 0
        self._state: str | None = None

    async def stream_state(self, state: str, detail: str = "", reason: int | None = None) -> None:
        if state == self._state and not detail:
            return
        self._state = state
        await _call(
            meetings.set_state,
            self.meeting_id,
            _STATES.get(state, state),
            detail=detail,
            reason=reason,
        )

    async def gap(self, detail: str) -> None:
        await _call(meetings.record_gap, self.meeting_id, detail)

    async def participant_joined(self, user_id: int, user_name: str, at_ms: int | None) -> None:
        await _call(participants.record_join, self.meeting_id, user_id, user_name, at_ms)

    async def participant_left(
        self, user_id: int, user_name: str | None, at_ms: int | None
    ) -> None:
        await _call(participants.record_leave, self.meeting_id, user_id, user_name, at_ms)

    async def active_speaker(self, user_id: int, user_name: str, at_ms: int | None) -> None:
        await _call(participants.record_active_speaker, self.meeting_id, user_id, user_name, at_ms)

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
        await _call(record_segment, self.meeting_id, segment)

    async def chat(self, content: TextContent) -> None:
        await _call(
            record_chat,
            self.meeting_id,
            content.user_id,
            content.user_name or "",
            int(content.timestamp),
            content.data,
        )

    async def audio(self, content: BinaryContent) -> None:
        # Kept for our own speech recognition (a later issue); counted and dropped for now.
        self.audio_frames += 1
        self.audio_bytes += len(content.data)


async def _call(function: Any, *args: Any, **kwargs: Any) -> Any:
    """Run a service in Django's sync thread; one stream's writes stay in order."""
    return await sync_to_async(function, thread_sensitive=True)(*args, **kwargs)
