"""The ingest's DB discipline on the real PostgreSQL: kept connections, checked, few statements."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import psycopg
import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from assistant.models import Meeting, MeetingNotes, TranscriptSegment
from assistant.services.transcript import SegmentInput, record_segment
from rtms_ingest.protocol import TextContent
from rtms_ingest.storage.database import close_db_threads, run_db
from rtms_ingest.storage.sink import StorageSink

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(60)]

MakeMeeting = Callable[..., Meeting]


def backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        row = cursor.fetchone()
    assert row is not None
    return int(row[0])


def utterance(text: str, start_ms: int) -> TextContent:
    return TextContent(data=text, timestamp=start_ms, user_id=101, user_name="Ana Lima")


@pytest.fixture
def one_db_thread() -> object:
    """One DB thread, so every call lands on the same thread and connection."""
    close_db_threads()
    with override_settings(RTMS_DB_THREADS=1):
        yield
    close_db_threads()


async def test_writes_reuse_one_connection(make_meeting: MakeMeeting, one_db_thread: None) -> None:
    meeting = await database_sync_to_async(make_meeting)()
    sink = StorageSink(meeting.pk)
    first = await run_db(backend_pid)
    for n in range(5):
        await sink.transcript(utterance(f"line {n}", n * 1000))
    assert await run_db(backend_pid) == first
    assert await TranscriptSegment.objects.filter(meeting=meeting).acount() == 5


async def test_a_kept_connection_the_server_dropped_is_replaced_before_the_next_write(
    make_meeting: MakeMeeting, one_db_thread: None, caplog: pytest.LogCaptureFixture
) -> None:
    meeting = await database_sync_to_async(make_meeting)()
    dropped = await run_db(backend_pid)
    db = connection.settings_dict
    async with await psycopg.AsyncConnection.connect(
        dbname=db["NAME"], user=db["USER"], host=db["HOST"], port=db["PORT"], autocommit=True
    ) as admin:
        await admin.execute("SELECT pg_terminate_backend(%s)", [dropped])
    with caplog.at_level(logging.WARNING, logger="rtms_ingest.storage.database"):
        await StorageSink(meeting.pk).transcript(utterance("after the drop", 0))
    # The health check found the dead connection before the write used it: no failed attempt.
    assert not [r for r in caplog.records if "attempt" in r.getMessage()]
    assert await run_db(backend_pid) != dropped
    assert await TranscriptSegment.objects.filter(meeting=meeting).acount() == 1


def statements_of_one_segment(meeting_id: int) -> list[str]:
    MeetingNotes.objects.create(meeting_id=meeting_id)  # as once the notes have started
    segment = SegmentInput("native", 101, "Ana Lima", 0, 900, "Shall we start?")
    with CaptureQueriesContext(connection) as queries:
        assert record_segment(meeting_id, segment) is not None
    return [q["sql"].split()[0].upper() for q in queries.captured_queries]


async def test_a_segment_costs_three_statements_and_the_notes_one_read(
    make_meeting: MakeMeeting,
) -> None:
    meeting = await database_sync_to_async(make_meeting)()
    # One transaction: the sequence number (UPDATE ... RETURNING), the segment, its outbox
    # event. Then whether the notes want an update (a read; most segments stop there).
    assert await run_db(statements_of_one_segment, meeting.pk) == [
        "BEGIN",
        "UPDATE",
        "INSERT",
        "INSERT",
        "COMMIT",
        "SELECT",
    ]


async def test_a_db_thread_is_free_while_what_it_published_is_sent(
    make_meeting: MakeMeeting, one_db_thread: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The push of a stored segment waits on the loop, never on the only DB thread."""
    layer = get_channel_layer()
    assert layer is not None
    sending, release = asyncio.Event(), asyncio.Event()
    group_send = layer.group_send

    async def slow_group_send(group: str, message: dict[str, Any]) -> None:
        sending.set()
        await release.wait()  # a Redis round trip that takes its time
        await group_send(group, message)

    monkeypatch.setattr(layer, "group_send", slow_group_send)
    meeting = await database_sync_to_async(make_meeting)()
    segment = SegmentInput(
        source="native",
        speaker_user_id=101,
        speaker_name="Ana Lima",
        start_ms=0,
        end_ms=900,
        text="the push of this waits",
    )
    stored = asyncio.create_task(run_db(record_segment, meeting.pk, segment))
    await asyncio.wait_for(sending.wait(), 10)
    # The one DB thread takes the next call while the first one's push is still being sent.
    assert await asyncio.wait_for(run_db(backend_pid), 5) > 0
    assert not stored.done()
    release.set()
    await asyncio.wait_for(stored, 10)
    assert await TranscriptSegment.objects.filter(meeting=meeting).acount() == 1
