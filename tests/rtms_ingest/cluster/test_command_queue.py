"""The Redis command queue on the real Redis: bad entries, outages, closing."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis
from django.conf import settings

from rtms_ingest.cluster.command_queue import COMMANDS_KEY, HOLDER_CHANNEL_PREFIX, RedisCommandQueue
from rtms_ingest.cluster.commands import StreamCommand
from tests.rtms_ingest.cluster.redis_link import RedisLink, redis_link

pytestmark = pytest.mark.timeout(30)
__all__ = ["redis_link"]  # fixture
COMMAND = StreamCommand("interrupt", "meeting", "owner==", "stream-1")


@pytest.fixture
async def direct() -> AsyncIterator[aioredis.Redis]:
    r = aioredis.Redis.from_url(settings.REDIS_URL, decode_responses=True)
    await r.delete(COMMANDS_KEY)
    yield r
    await r.aclose()


async def subscribers(r: aioredis.Redis, holder: str) -> int:
    counts = await r.pubsub_numsub(HOLDER_CHANNEL_PREFIX + holder)
    return int(counts[0][1])


async def until_subscribers(r: aioredis.Redis, holder: str, count: int) -> None:
    async with asyncio.timeout(10):
        while await subscribers(r, holder) != count:
            await asyncio.sleep(0.05)


def listener_tasks() -> list[asyncio.Task[object]]:
    return [
        task
        for task in asyncio.all_tasks()
        if not task.done() and task.get_coro().__qualname__ == "RedisCommandQueue._listen"  # type: ignore[union-attr]
    ]


async def test_malformed_entries_are_dropped_and_the_next_command_returned(
    direct: aioredis.Redis,
) -> None:
    queue = RedisCommandQueue(settings.REDIS_URL)
    garbage: list[str | bytes] = [
        b"\xff\xfe",
        "not json",
        "[1, 2]",
        '{"action": "start"}',
        '{"action": "x"}',
    ]
    await direct.lpush(COMMANDS_KEY, *garbage, COMMAND.to_json())
    got = [await queue.get(timeout_s=0.1) for _ in range(len(garbage) + 1)]
    await queue.close()
    assert got == [None] * len(garbage) + [COMMAND]


async def test_forwarded_commands_arrive_again_after_a_redis_outage(
    direct: aioredis.Redis, redis_link: RedisLink
) -> None:
    holder = f"test-holder-{uuid.uuid4().hex[:8]}"
    queue = RedisCommandQueue(redis_link.url, holder)
    assert await queue.get(timeout_s=0.1) is None  # starts the listener
    await until_subscribers(direct, holder, 1)
    redis_link.cut()
    await until_subscribers(direct, holder, 0)
    await asyncio.sleep(1.0)
    redis_link.restore()
    await until_subscribers(direct, holder, 1)
    sender = RedisCommandQueue(settings.REDIS_URL)
    await sender.forward(holder, COMMAND)
    await sender.close()
    received = await queue.get(timeout_s=1.0)
    await queue.close()
    assert received == COMMAND


async def test_close_stops_the_listener_and_unsubscribes(direct: aioredis.Redis) -> None:
    holder = f"test-holder-{uuid.uuid4().hex[:8]}"
    queue = RedisCommandQueue(settings.REDIS_URL, holder)
    await queue.get(timeout_s=0.1)
    await until_subscribers(direct, holder, 1)

    await queue.close()

    assert listener_tasks() == []
    await until_subscribers(direct, holder, 0)
