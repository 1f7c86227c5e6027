"""Shared by the supervisor tests: a clean Redis, a short meeting on the simulator, waiting."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis
from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import connections

from assistant.models import Meeting
from rtms_ingest.client import RtmsCredentials
from rtms_ingest.cluster.command_queue import (
    COMMANDS_STREAM,
    INBOX_PREFIX,
    LEGACY_COMMANDS_KEY,
    RedisCommandQueue,
)
from rtms_ingest.cluster.commands import StreamCommand, command_from_webhook
from rtms_ingest.cluster.leases import LEASE_PREFIX, RedisLeases
from rtms_ingest.cluster.registry import INGESTS_KEY, LIVE_STREAMS_KEY
from rtms_ingest.cluster.supervisor import Supervisor, new_holder_id
from rtms_ingest.protocol import MediaType
from rtms_ingest.simulator import RtmsSimulator, SimulatorConfig
from rtms_ingest.simulator.fixture import RecordedMeeting, load_meeting
from rtms_ingest.storage.streams import MeetingStreams
from tests.rtms_ingest.loopback import LOOPBACK_POLICY
from tests.rtms_ingest.simulator.fixtures import write_short_meeting

CREDENTIALS = RtmsCredentials("sup-client", "sup-secret")


@pytest.fixture
async def clean_redis() -> AsyncIterator[aioredis.Redis]:
    """A direct connection to the test Redis, without queued commands, leases or ingests."""
    r = aioredis.Redis.from_url(settings.REDIS_URL, decode_responses=True)
    keys = [k for prefix in (LEASE_PREFIX, INBOX_PREFIX) async for k in r.scan_iter(f"{prefix}*")]
    await r.delete(COMMANDS_STREAM, LEGACY_COMMANDS_KEY, INGESTS_KEY, LIVE_STREAMS_KEY, *keys)
    yield r
    await r.aclose()
    await sync_to_async(connections.close_all)()


@pytest.fixture
def short_meeting(tmp_path: Path) -> RecordedMeeting:
    """Three utterances in the first three seconds of a four-second meeting."""
    return load_meeting(write_short_meeting(tmp_path))


@pytest.fixture
def long_meeting(tmp_path: Path) -> RecordedMeeting:
    """The short meeting's three utterances, then quiet until 60 s (time to break things)."""
    return load_meeting(write_short_meeting(tmp_path, duration_s=60.0))


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
