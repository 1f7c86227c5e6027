"""The app side of the ingest: meetings record the streams; RTMS_SINKS says what they feed.

`RTMS_SINKS` lists dotted paths of sink factories. Each is called (on a DB thread, so it may
query) with the stream's meeting and returns a sink (with `wants`, the media it consumes) or
None when it has nothing to do for that meeting. The supervisor asks Zoom for what they want.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from functools import cache

from django.conf import settings
from django.utils.module_loading import import_string

from assistant.models import Meeting
from assistant.services import meeting_language, meetings
from rtms_ingest.client.sink import StreamStatus
from rtms_ingest.cluster.commands import StreamCommand
from rtms_ingest.cluster.sinks import MediaSink, SinkSet, StreamOver, WriterFence
from rtms_ingest.storage.database import run_db

SinkFactory = Callable[[Meeting], MediaSink | None]

# A start waits for the database about as long as run_db retries, not through a whole outage as
# the stream's data does: until the start returns, the supervisor holds the stream's lease
# without renewing it, and it queues a failed start again.
START_DB_TIMEOUT_S = 5.0


@cache
def _factory(path: str) -> SinkFactory:
    factory: SinkFactory = import_string(path)
    return factory


def sink_factories() -> list[SinkFactory]:
    """The factories RTMS_SINKS names, imported once each."""
    return [_factory(path) for path in settings.RTMS_SINKS]


def _open_meeting(command: StreamCommand, fence: WriterFence) -> SinkSet:
    meeting, _ = meetings.open_stream(
        product=command.product,
        zoom_id=command.zoom_id,
        rtms_stream_id=command.rtms_stream_id,
        operator_id=command.operator_id,
        facts=meetings.ZoomMeetingFacts(
            account_id=command.account_id,
            meeting_number=command.meeting_number,
            operator_is_original_host=command.is_original_host,
        ),
    )
    if command.rejoin and meeting.state in Meeting.FINISHED_STATES:
        raise StreamOver(f"its meeting {meeting.pk} is {meeting.state} already")
    sinks = [sink for sink in (factory(meeting) for factory in sink_factories()) if sink]
    for sink in sinks:
        # A sink that writes for the stream does so under the stream's lease (see fencing).
        if isinstance(getattr(sink, "fence", None), WriterFence):
            sink.fence = fence  # type: ignore[attr-defined]
    return SinkSet(sinks, transcript_language=meeting_language.zoom_src_language(meeting))


class MeetingStreams:
    """Implements cluster.sinks.StreamStore on the meetings table."""

    async def open(self, command: StreamCommand, fence: WriterFence) -> SinkSet:
        sinks = await run_db(_open_meeting, command, fence)
        if not command.rejoin:  # a rejoined stream stays as it was until it is live again
            async with asyncio.timeout(START_DB_TIMEOUT_S):
                await sinks.stream_state(StreamStatus.CONNECTING)
        return sinks

    async def reopen(self, command: StreamCommand, fence: WriterFence) -> SinkSet:
        return await run_db(_open_meeting, command, fence)

    async def end_unheld(self, rtms_stream_id: str, stop_reason: int | None) -> None:
        await run_db(meetings.end_stream_if_open, rtms_stream_id, stop_reason)
