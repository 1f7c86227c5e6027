"""Shared by the supervisor tests: the simulator, a supervisor, commands, waiting.

Their fixtures (a clean Redis, the short and long meetings) are in tests/rtms_ingest/conftest.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from django.conf import settings

from assistant.models import Meeting
from rtms_ingest.client import RtmsCredentials
from rtms_ingest.cluster.command_queue import (
    RedisCommandQueue,
)
from rtms_ingest.cluster.commands import StreamCommand, command_from_webhook
from rtms_ingest.cluster.leases import RedisLeases
from rtms_ingest.cluster.supervisor import Supervisor, new_holder_id
from rtms_ingest.protocol import MediaType
from rtms_ingest.simulator import RtmsSimulator, SimulatorConfig
from rtms_ingest.simulator.fixture import RecordedMeeting
from rtms_ingest.storage.streams import MeetingStreams
from tests.rtms_ingest.loopback import LOOPBACK_POLICY

CREDENTIALS = RtmsCredentials("sup-client", "sup-secret")


def simulator(meeting: RecordedMeeting, speed: float = 4.0) -> RtmsSimulator:
    config = SimulatorConfig(
        client_id=CREDENTIALS.client_id,
        client_secret=CREDENTIALS.client_secret,
        webhook_secret_token="unused",
        speed=speed,
    )
    return RtmsSimulator(meeting, config)


def supervisor(**options: Any) -> Supervisor:
    """A supervisor on the test Redis (solo: no registry of other ingests unless given)."""
    options.setdefault("holder_id", new_holder_id())
    options.setdefault("queue", RedisCommandQueue(settings.REDIS_URL, options["holder_id"]))
    options.setdefault("leases", RedisLeases(settings.REDIS_URL))
    options.setdefault("media", MediaType.TRANSCRIPT | MediaType.CHAT)
    options.setdefault("store", MeetingStreams())
    options.setdefault("url_policy", LOOPBACK_POLICY)
    return Supervisor(credentials=CREDENTIALS, **options)


def start_command(stream: Any) -> StreamCommand:
    return command_from_webhook(stream.webhook_payload("meeting.rtms_started"))


def stop_command(stream: Any, reason: int) -> StreamCommand:
    return command_from_webhook(stream.webhook_payload("meeting.rtms_stopped", reason))


async def until(condition: Callable[[], Awaitable[bool]], timeout_s: float = 15.0) -> None:
    """Wait (polling) until the async condition holds."""
    async with asyncio.timeout(timeout_s):
        while not await condition():
            await asyncio.sleep(0.05)


async def meeting_of(stream: Any) -> Meeting:
    return await Meeting.objects.aget(rtms_stream_id=stream.rtms_stream_id)


async def meeting_state(stream: Any) -> str | None:
    meeting = await Meeting.objects.filter(rtms_stream_id=stream.rtms_stream_id).afirst()
    return None if meeting is None else meeting.state
