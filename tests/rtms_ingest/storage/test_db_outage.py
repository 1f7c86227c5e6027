"""A PostgreSQL restart during a meeting, on the real server: the ingest loses nothing.

The outage is real (tests/postgres_outage.py): the test database refuses connections and
every open one is cut, as in a restart, then it comes back.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

import pytest
from channels.db import database_sync_to_async
from django.db import OperationalError
from django.test import override_settings

from assistant.models import (
    ChatMessage,
    ConnectionLogEntry,
    LiveEvent,
    Meeting,
    Participant,
    TranscriptSegment,
)
from rtms_ingest.protocol import TextContent
from rtms_ingest.simulator.fixture import RecordedMeeting, sample_meeting
from rtms_ingest.storage.sink import StorageSink
from tests.postgres_outage import DatabaseOutage
from tests.rtms_ingest.cluster.supervisor_support import (
    simulator,
    start_command,
    supervisor,
    until,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(90)]

MakeMeeting = Callable[..., Meeting]


def line(text: str, at_ms: int) -> TextContent:
    return TextContent(data=text, timestamp=at_ms, user_id=101, user_name="Ana Lima")


@database_sync_to_async
def stored_texts(meeting_id: int) -> list[str]:
    rows = TranscriptSegment.objects.filter(meeting_id=meeting_id).order_by("seq")
    return list(rows.values_list("text", flat=True))


@database_sync_to_async
def gaps(meeting_id: int) -> list[tuple[int | None, int | None, int | None]]:
    rows = ConnectionLogEntry.objects.filter(meeting_id=meeting_id, kind="gap").order_by("pk")
    return list(rows.values_list("from_ms", "to_ms", "frames_lost"))


async def test_a_write_during_a_database_restart_waits_and_is_stored_once(
    make_meeting: MakeMeeting, database_outage: DatabaseOutage
) -> None:
    meeting = await database_sync_to_async(make_meeting)()
    sink = StorageSink(meeting.pk)
    await sink.transcript(line("before", 1_000))  # the DB thread now holds a connection
    await database_outage.abegin()
    writing = asyncio.create_task(sink.transcript(line("during", 2_000)))
    await asyncio.sleep(3.0)
    assert not writing.done(), "the write waits for the database"
    await database_outage.aend()
    await asyncio.wait_for(writing, 10)
    await sink.transcript(line("after", 3_000))
    assert await stored_texts(meeting.pk) == ["before", "during", "after"]
    assert await gaps(meeting.pk) == []


@override_settings(RTMS_DB_RETRY_S=1.0)
async def test_writes_given_up_after_rtms_db_retry_s_become_one_gap_once_the_database_is_back(
    make_meeting: MakeMeeting, database_outage: DatabaseOutage
) -> None:
    meeting = await database_sync_to_async(make_meeting)()
    sink = StorageSink(meeting.pk)
    await database_outage.abegin()
    started = time.monotonic()
    with pytest.raises(OperationalError):
        await sink.transcript(line("lost", 5_000))
    with pytest.raises(OperationalError):
        await sink.chat(line("lost too", 6_500))
    assert 2.0 <= time.monotonic() - started < 6.0, "each waited about RTMS_DB_RETRY_S"
    await database_outage.aend()
    await sink.transcript(line("back", 9_000))
    assert await stored_texts(meeting.pk) == ["back"]
    assert await gaps(meeting.pk) == [(5_000, 6_500, 2)]
    events = await database_sync_to_async(
        lambda: list(LiveEvent.objects.filter(meeting=meeting).order_by("seq"))
    )()
    assert [(e.payload["type"], e.payload.get("state")) for e in events] == [
        ("state", "gap"),
        ("segment", None),
    ], "the gap is told before what came after it"
    await sink.transcript(line("and on", 10_000))
    assert len(await gaps(meeting.pk)) == 1, "recorded once"


# --- A whole meeting ---------------------------------------------------------------------------

SPEED = 4.0  # the sample's 114 s in about 29 s
OUTAGE_S = 15.0


def expected_captions(recording: RecordedMeeting) -> list[tuple[str, str]]:
    """(speaker, text) in the order Zoom delivers native transcripts: by end time."""
    ordered = sorted(recording.utterances, key=lambda u: (u.end_s, u.start_s))
    return [(recording.user_name(u.user_id), u.text) for u in ordered]


@database_sync_to_async
def stored_meeting(stream_id: str) -> dict[str, object]:
    meeting = Meeting.objects.get(rtms_stream_id=stream_id)
    segments = TranscriptSegment.objects.filter(meeting=meeting).order_by("seq")
    chat = ChatMessage.objects.filter(meeting=meeting).order_by("seq")
    people = Participant.objects.filter(meeting=meeting)
    return {
        "state": (meeting.state, meeting.stop_reason),
        "captions": list(segments.values_list("speaker_name", "text")),
        "chat": list(chat.values_list("text", flat=True)),
        "joined": set(people.values_list("zoom_user_id", flat=True)),
        "left": set(people.filter(left_at_ms__isnull=False).values_list("zoom_user_id", flat=True)),
        "gaps": list(
            ConnectionLogEntry.objects.filter(meeting=meeting, kind="gap").values_list(
                "detail", flat=True
            )
        ),
    }


async def test_a_database_restart_in_the_middle_of_a_meeting_loses_nothing(
    clean_redis: None, database_outage: DatabaseOutage, caplog: pytest.LogCaptureFixture
) -> None:
    recording = sample_meeting()
    ingest = supervisor()
    caplog.set_level(logging.WARNING, logger="rtms_ingest.storage.database")
    async with simulator(recording, speed=SPEED) as sim:
        stream = sim.new_stream()
        playing = asyncio.create_task(sim.play(stream))
        await ingest.handle(start_command(stream))

        async def captions_stored() -> bool:
            rows = TranscriptSegment.objects.filter(meeting__rtms_stream_id=stream.rtms_stream_id)
            return await rows.acount() >= 3

        await until(captions_stored)  # about 25 s into the meeting
        await database_outage.lasting(OUTAGE_S)
        report = await asyncio.wait_for(playing, 60)
    await until(lambda: asyncio.sleep(0, result=not ingest.streams), 30)

    assert report.joined and report.stop_reason == 6
    assert database_outage.began_at is not None and database_outage.ended_at is not None
    said_meanwhile = [
        frame
        for frame in report.sent
        if frame.kind in ("transcript", "chat")
        and database_outage.began_at * 1e9 < frame.monotonic_ns < database_outage.ended_at * 1e9
    ]
    assert len(said_meanwhile) >= 8, "the outage covered a good part of the meeting"
    assert any("attempt" in r.getMessage() for r in caplog.records), "writes met the outage"
    stored = await stored_meeting(stream.rtms_stream_id)
    assert stored["captions"] == expected_captions(recording), "each once, in order"
    assert stored["chat"] == [c.text for c in recording.chat]
    assert stored["joined"] == {p.user_id for p in recording.participants}
    assert stored["left"] == {p.user_id for p in recording.participants if p.leave_s}
    assert stored["gaps"] == [], "nothing was given up"
    assert stored["state"] == (Meeting.State.ENDED, 6)
