"""A meeting's language reaches Zoom's transcript handshake; Zoom's language reaches the segment."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth.models import User
from django.test import Client, override_settings
from django.urls import reverse

from assistant.models import Meeting, TranscriptSegment
from assistant.services import meeting_language
from rtms_ingest.cluster.commands import StreamCommand
from rtms_ingest.simulator.fixture import RecordedMeeting
from rtms_ingest.simulator.report import TranscriptAsk
from tests.rtms_ingest.cluster.supervisor_support import (
    simulator,
    start_command,
    supervisor,
    until,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(60)]

STORAGE = "rtms_ingest.storage.sink.storage_sink"
SPANISH, ENGLISH = 28, 9


async def _live(stream_id: str) -> bool:
    return await Meeting.objects.filter(rtms_stream_id=stream_id, state="live").aexists()


async def test_the_hosts_new_language_reaches_the_live_streams_next_transcript_handshake(
    clean_redis: None, long_meeting: RecordedMeeting
) -> None:
    ingest = supervisor()
    with override_settings(RTMS_SINKS=[STORAGE], MEETING_LANGUAGE=-1):
        async with simulator(long_meeting, speed=1.0) as sim:
            stream = sim.new_stream()
            playing = asyncio.create_task(sim.play(stream))
            await ingest.handle(start_command(stream))
            await until(lambda: _live(stream.rtms_stream_id))

            meeting = await Meeting.objects.aget(rtms_stream_id=stream.rtms_stream_id)
            await sync_to_async(meeting_language.set_language)(meeting.pk, SPANISH)
            await ingest.handle(
                StreamCommand("reconfigure", "meeting", meeting.zoom_id, stream.rtms_stream_id)
            )
            await until(lambda: _asked_twice(stream))
            await ingest.shutdown()
            playing.cancel()
    assert stream.report.transcript_asks == [
        TranscriptAsk("transcript", -1, True, 0),
        TranscriptAsk("transcript", SPANISH, False, 0),
    ]
    assert stream.report.signaling_connections == 1  # only the transcript socket re-handshook
    gap = await meeting.connection_log.filter(kind="gap").values_list("detail", flat=True).aget()
    assert gap == "transcript media socket reconnected to ask Zoom for the transcript in SPANISH"


async def _asked_twice(stream: object) -> bool:
    return len(stream.report.transcript_asks) == 2  # type: ignore[attr-defined]


async def test_a_meeting_language_set_before_the_stream_is_asked_for_at_once(
    clean_redis: None, short_meeting: RecordedMeeting
) -> None:
    ingest = supervisor()
    with override_settings(RTMS_SINKS=[STORAGE], MEETING_LANGUAGE=ENGLISH):
        async with simulator(short_meeting) as sim:
            stream = sim.new_stream()
            playing = asyncio.create_task(sim.play(stream))
            await ingest.handle(start_command(stream))
            report = await asyncio.wait_for(playing, 20)
    assert report.transcript_asks == [TranscriptAsk("transcript", ENGLISH, False, 0)]


async def test_the_language_zoom_reports_is_stored_and_labelled_on_the_page(
    clean_redis: None, short_meeting: RecordedMeeting, host: User
) -> None:
    # Zoom detects the language; the second utterance is reported in Spanish, the others in
    # English.
    said = [
        dataclasses.replace(u, language=SPANISH if n == 1 else ENGLISH)
        for n, u in enumerate(short_meeting.utterances)
    ]
    meeting_in_two = dataclasses.replace(short_meeting, utterances=tuple(said))
    ingest = supervisor()
    with override_settings(RTMS_SINKS=[STORAGE], MEETING_LANGUAGE=-1):
        async with simulator(meeting_in_two) as sim:
            stream = sim.new_stream()
            playing = asyncio.create_task(sim.play(stream))
            await ingest.handle(start_command(stream))
            await asyncio.wait_for(playing, 20)
            await until(lambda: _no_streams(ingest))

    segments = TranscriptSegment.objects.filter(meeting__rtms_stream_id=stream.rtms_stream_id)
    languages = [s async for s in segments.order_by("start_ms").values_list("language", flat=True)]
    assert languages == ["en", "es", "en"]

    meeting = await Meeting.objects.aget(rtms_stream_id=stream.rtms_stream_id)
    await Meeting.objects.filter(pk=meeting.pk).aupdate(owner=host)
    html = await sync_to_async(_finished_page)(host, meeting.pk)
    assert html.count('class="caption-language"') == 1
    assert '<span class="caption-language" lang="es" title="Said in Spanish">Spanish</span>' in html


async def _no_streams(ingest: object) -> bool:
    return not ingest.streams  # type: ignore[attr-defined]


def _finished_page(user: User, meeting_id: int) -> str:
    client = Client()
    client.force_login(user)
    return client.get(reverse("meeting-detail", args=[meeting_id])).content.decode()
