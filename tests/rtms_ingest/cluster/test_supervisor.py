"""The ingest supervisor on the production transports: Redis queue, Redis leases, PostgreSQL."""

from __future__ import annotations

import asyncio

import pytest
from asgiref.sync import sync_to_async
from django.conf import settings

from assistant.models import ConnectionLogEntry, Meeting, TranscriptSegment
from rtms_ingest.client import RtmsCredentials
from rtms_ingest.cluster.command_queue import RedisCommandQueue
from rtms_ingest.cluster.leases import RedisLeases
from rtms_ingest.cluster.supervisor import Supervisor
from rtms_ingest.protocol import MsgType
from rtms_ingest.simulator.fixture import RecordedMeeting
from rtms_ingest.storage.streams import MeetingStreams
from tests.rtms_ingest.cluster.supervisor_support import (
    CREDENTIALS,
    simulator,
    start_command,
    supervisor,
)
from tests.rtms_ingest.loopback import LOOPBACK_POLICY

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(60)]


async def test_two_ingests_given_the_same_stream_open_one_connection(
    clean_redis: None, short_meeting: RecordedMeeting
) -> None:
    first, second = supervisor(), supervisor()
    async with simulator(short_meeting) as sim:
        stream = sim.new_stream()
        playing = asyncio.create_task(sim.play(stream))
        command = start_command(stream)
        await asyncio.gather(first.handle(command), second.handle(command))
        report = await playing
        await asyncio.sleep(0.2)
    assert report.signaling_connections == 1
    assert len(first.streams) + len(second.streams) == 0, "both let go once it ended"
    count = await sync_to_async(TranscriptSegment.objects.count)()
    assert count == len(short_meeting.utterances)


async def test_shutdown_closes_streams_with_stream_close_req(
    clean_redis: None, short_meeting: RecordedMeeting
) -> None:
    ingest = supervisor()
    stopping = asyncio.Event()
    async with simulator(short_meeting, speed=0.5) as sim:
        stream = sim.new_stream()
        playing = asyncio.create_task(sim.play(stream))
        running = asyncio.create_task(ingest.run(stopping))
        await ingest.queue.put(start_command(stream))
        while not await sync_to_async(Meeting.objects.filter(state=Meeting.State.LIVE).exists)():
            await asyncio.sleep(0.05)
        stopping.set()
        await asyncio.wait_for(running, 15)
        report = await asyncio.wait_for(playing, 15)
    assert MsgType.STREAM_CLOSE_REQ in report.received
    meeting = await sync_to_async(Meeting.objects.get)(rtms_stream_id=stream.rtms_stream_id)
    assert meeting.state == Meeting.State.ENDED
    assert meeting.stop_reason == 20  # RECEIVER_REQUEST_CLOSE


async def test_refused_handshake_marks_the_meeting_failed(
    clean_redis: None, short_meeting: RecordedMeeting
) -> None:
    ingest = Supervisor(
        queue=RedisCommandQueue(settings.REDIS_URL),
        leases=RedisLeases(settings.REDIS_URL),
        credentials=RtmsCredentials(CREDENTIALS.client_id, "wrong-secret"),
        store=MeetingStreams(),
        url_policy=LOOPBACK_POLICY,
    )
    async with simulator(short_meeting) as sim:
        sim.config.connect_timeout_s = 3
        stream = sim.new_stream()
        playing = asyncio.create_task(sim.play(stream))
        await ingest.handle(start_command(stream))
        while ingest.streams:
            await asyncio.sleep(0.05)
        playing.cancel()
    meeting = await sync_to_async(Meeting.objects.get)(rtms_stream_id=stream.rtms_stream_id)
    assert meeting.state == Meeting.State.FAILED
    logged = await sync_to_async(
        ConnectionLogEntry.objects.filter(meeting=meeting, kind="stop").exists
    )()
    assert logged
