"""Fixtures shared by the ingest's tests: a clean test Redis and short recorded meetings."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import redis.asyncio as aioredis
from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import connections

from rtms_ingest.cluster.command_queue import COMMANDS_STREAM, INBOX_PREFIX, LEGACY_COMMANDS_KEY
from rtms_ingest.cluster.leases import LEASE_PREFIX
from rtms_ingest.cluster.registry import INGESTS_KEY, LIVE_STREAMS_KEY
from rtms_ingest.simulator.fixture import RecordedMeeting, load_meeting
from tests.rtms_ingest.simulator.fixtures import write_short_meeting


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
