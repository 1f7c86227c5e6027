"""The ingest's writes through StorageSink against the real PostgreSQL.

A second, plain psycopg connection plays the other side: it holds a meeting's row lock (a slow
write) and cuts off the sink's connection from the server (pg_terminate_backend).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import psycopg
import pytest
from channels.db import database_sync_to_async
from django.db import connection

from assistant.models import ConnectionLogEntry, Meeting, TranscriptSegment
from rtms_ingest.client.sink import GapSpan, StreamStatus
from rtms_ingest.protocol import TextContent
from rtms_ingest.storage.sink import StorageSink

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(60)]

MakeMeeting = Callable[..., Meeting]
TIMEOUT = 5


def utterance(text: str, start_ms: int = 0) -> TextContent:
    return TextContent(data=text, timestamp=start_ms, user_id=101, user_name="Ana Lima")


@database_sync_to_async
def texts(meeting_id: int) -> list[str]:
    return list(
        TranscriptSegment.objects.filter(meeting_id=meeting_id)
        .order_by("seq")
        .values_list("text", flat=True)
    )


class RowLock:
    """A separate connection that holds one meeting's row lock until released."""

    def __init__(self, conn: psycopg.AsyncConnection[tuple[object, ...]]) -> None:
        self.conn = conn

    async def hold(self, meeting_id: int) -> None:
        await self.conn.execute(
            f"SELECT 1 FROM {Meeting._meta.db_table} WHERE id = %s FOR UPDATE",  # noqa: S608
            [meeting_id],
        )

    async def waiting_backend(self) -> int:
        """The pid of the (sink's) connection that waits for our lock, once there is one."""
        for _ in range(TIMEOUT * 20):
            # Inside a transaction the activity view is a snapshot unless it is cleared.
            await self.conn.execute("SELECT pg_stat_clear_snapshot()")
            cursor = await self.conn.execute(
                "SELECT pid FROM pg_stat_activity"
                " WHERE pg_backend_pid() = ANY(pg_blocking_pids(pid))"
            )
            row = await cursor.fetchone()
            if row is not None:
                return int(str(row[0]))
            await asyncio.sleep(0.05)
        raise AssertionError("no connection waited for the row lock")

    async def cut_off(self, pid: int) -> None:
        await self.conn.execute("SELECT pg_terminate_backend(%s)", [pid])

    async def release(self) -> None:
        await self.conn.rollback()


@pytest.fixture
async def row_lock() -> AsyncIterator[RowLock]:
    db = connection.settings_dict
    conn = await psycopg.AsyncConnection.connect(
        dbname=db["NAME"],
        user=db["USER"],
        password=db["PASSWORD"],
        host=db["HOST"],
        port=db["PORT"],
    )
    try:
        yield RowLock(conn)
    finally:
        await conn.rollback()
        await conn.close()


async def test_write_cut_off_by_the_server_is_retried_on_a_new_connection(
    make_meeting: MakeMeeting, row_lock: RowLock
) -> None:
    meeting = await database_sync_to_async(make_meeting)()
    sink = StorageSink(meeting.pk)
    await row_lock.hold(meeting.pk)
    write = asyncio.ensure_future(sink.transcript(utterance("Shall we start?")))
    await row_lock.cut_off(await row_lock.waiting_backend())
    await row_lock.release()
    await asyncio.wait_for(write, TIMEOUT)
    assert await texts(meeting.pk) == ["Shall we start?"]


async def test_slow_write_of_one_stream_does_not_hold_up_another(
    make_meeting: MakeMeeting, row_lock: RowLock
) -> None:
    slow, other = await database_sync_to_async(lambda: (make_meeting(), make_meeting()))()
    await row_lock.hold(slow.pk)
    held = asyncio.ensure_future(StorageSink(slow.pk).transcript(utterance("held")))
    try:
        await row_lock.waiting_backend()
        other_write = StorageSink(other.pk).transcript(utterance("not held"))
        await asyncio.wait_for(other_write, TIMEOUT)
        assert await texts(other.pk) == ["not held"]
    finally:
        await row_lock.release()
        await asyncio.wait_for(held, TIMEOUT)
    assert await texts(slow.pk) == ["held"]


async def test_a_gap_is_stored_with_its_stream_clock_range_and_frames_lost(
    make_meeting: MakeMeeting,
) -> None:
    meeting = await database_sync_to_async(make_meeting)()
    sink = StorageSink(meeting.pk)
    await sink.gap("audio: 40 frames dropped", GapSpan(from_ms=5_000, to_ms=5_800, frames_lost=40))
    await sink.gap("audio media socket dropped", GapSpan(from_ms=9_000))

    @database_sync_to_async
    def gaps() -> list[tuple[int | None, int | None, int | None]]:
        return list(
            ConnectionLogEntry.objects.filter(meeting=meeting, kind=ConnectionLogEntry.Kind.GAP)
            .order_by("id")
            .values_list("from_ms", "to_ms", "frames_lost")
        )

    assert await gaps() == [(5_000, 5_800, 40), (9_000, None, None)]


async def test_a_meeting_that_ended_is_not_failed_afterwards(make_meeting: MakeMeeting) -> None:
    """Zoom's stop ended it first; a rejoin refused because of that must not overwrite it."""
    meeting = await database_sync_to_async(make_meeting)(state=Meeting.State.LIVE)
    ending, rejoining = StorageSink(meeting.pk), StorageSink(meeting.pk)
    await ending.stream_state(StreamStatus.ENDED, "stopped by Zoom", 6)
    await rejoining.stream_state(StreamStatus.FAILED, "rejoin refused", 18)
    await meeting.arefresh_from_db()
    assert (meeting.state, meeting.stop_reason) == (Meeting.State.ENDED, 6)
