"""The ingest's adapter to the services: one stream's data, written without blocking the loop.

Writes run on a pool of threads of their own (`RTMS_DB_THREADS`, default 8), not on asgiref's
one thread-sensitive thread: there a slow write of one stream would hold up every stream and
every consumer of this process. One stream's writes still land in the order they arrive: the
client awaits each sink call before it makes the next (per connection; the signaling and media
sockets of a stream deliver independently, and the meeting row lock orders their writes).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import InterfaceError, OperationalError, close_old_connections

from assistant.models import Meeting, TranscriptSegment
from assistant.services import meetings, participants
from assistant.services.chat import record_chat
from assistant.services.transcript import SegmentInput, record_segment
from rtms_ingest.backoff import Backoff
from rtms_ingest.protocol import BinaryContent, TextContent, TranscriptLanguage

log = logging.getLogger(__name__)

T = TypeVar("T")

# A write that failed because the database or the connection to it did: worth another try.
RETRYABLE = (OperationalError, InterfaceError)
WRITE_ATTEMPTS = 4

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


async def _call(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a service on the sink's DB threads, retrying a failed connection with backoff.

    Without a retry the client logs the error and the utterance is lost for good (Zoom does not
    deliver it again). Segments, chat lines and joins/leaves are keyed, so a write that may have
    landed (the connection dropped at commit) is stored once; a state, gap or speaker event
    might then be published twice, which viewers show harmlessly.
    """
    run = sync_to_async(_with_fresh_connection, thread_sensitive=False, executor=_db_executor())
    backoff = Backoff(initial_s=0.5, max_s=2.0, first_s=0.2)
    attempt = 1
    while True:
        try:
            return await run(function, *args, **kwargs)
        except RETRYABLE as exc:
            if attempt >= WRITE_ATTEMPTS:
                raise
            delay = backoff.next_delay()
            attempt += 1
            log.warning(
                "%s failed (%s); attempt %d of %d in %.2f s",
                getattr(function, "__name__", function),
                exc,
                attempt,
                WRITE_ATTEMPTS,
                delay,
            )
            await asyncio.sleep(delay)


def _with_fresh_connection(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Call `function` as Django handles a request: drop a broken or expired connection first.

    Plain sync_to_async never does: Django drops a connection that fails inside atomic(), but
    one that fails outside it (or that the server closed while idle) would stay broken on this
    thread, and every retry on it would fail the same way. Closing after the call too (as
    channels' database_sync_to_async does) honours CONN_MAX_AGE for threads that then sit idle.
    """
    close_old_connections()
    try:
        return function(*args, **kwargs)
    finally:
        close_old_connections()


_executor: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()


def _db_executor() -> ThreadPoolExecutor:
    """The sink's thread pool, made on first use (settings are read then, not at import)."""
    global _executor
    with _executor_lock:
        if _executor is None:
            threads = int(getattr(settings, "RTMS_DB_THREADS", 8))
            _executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="rtms-db")
        return _executor
