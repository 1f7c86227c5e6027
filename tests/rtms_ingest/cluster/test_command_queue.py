"""The Redis command queue on the real Redis: acknowledgement, redelivery, inboxes, bad entries."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis
from django.conf import settings

from rtms_ingest.cluster.command_queue import (
    COMMANDS_STREAM,
    FIELD,
    INBOX_PREFIX,
    LEGACY_COMMANDS_KEY,
    RedisCommandQueue,
)
from rtms_ingest.cluster.commands import HANDOVER_EVENT, StreamCommand
from rtms_ingest.cluster.registry import INGESTS_KEY, RedisRegistry
from tests.rtms_ingest.cluster.redis_link import RedisLink

pytestmark = pytest.mark.timeout(30)
COMMAND = StreamCommand("interrupt", "meeting", "owner==", "stream-1")
START = StreamCommand("start", "meeting", "owner==", "stream-2", "wss://rtms.example/s")


@pytest.fixture
async def direct() -> AsyncIterator[aioredis.Redis]:
    r = aioredis.Redis.from_url(settings.REDIS_URL, decode_responses=True)
    await clear(r)
    yield r
    await clear(r)
    await r.aclose()


async def clear(r: aioredis.Redis) -> None:
    inboxes = [key async for key in r.scan_iter(f"{INBOX_PREFIX}*")]
    await r.delete(COMMANDS_STREAM, LEGACY_COMMANDS_KEY, INGESTS_KEY, *inboxes)


def ingest_queue(url: str | None = None, **options: float) -> RedisCommandQueue:
    holder = f"test-holder-{uuid.uuid4().hex[:8]}"
    return RedisCommandQueue(url or settings.REDIS_URL, holder, **options)


async def test_a_command_acted_on_is_not_delivered_again(direct: aioredis.Redis) -> None:
    first, second = ingest_queue(claim_idle_s=0.2), ingest_queue(claim_idle_s=0.2)
    await first.put(START)
    queued = await first.get(timeout_s=1.0)
    assert queued is not None and queued.command == START
    await first.ack(queued)
    await asyncio.sleep(1.2)  # past the claim delay and the claim check
    assert await second.get(timeout_s=0.1) is None
    assert await direct.xlen(COMMANDS_STREAM) == 0  # what stays is what is not acted on
    await first.close()
    await second.close()


async def test_a_command_taken_and_never_acted_on_is_delivered_again(
    direct: aioredis.Redis,
) -> None:
    """An ingest that dies between taking a command and acting on it loses nothing."""
    dying, survivor = ingest_queue(claim_idle_s=0.5), ingest_queue(claim_idle_s=0.5)
    await dying.put(START)
    taken = await dying.get(timeout_s=1.0)
    assert taken is not None and taken.command == START
    await dying.close()  # gone without acknowledging

    assert await survivor.get(timeout_s=0.1) is None  # not idle long enough yet
    await asyncio.sleep(1.1)
    again = await survivor.get(timeout_s=0.1)
    assert again is not None and again.command == START
    await survivor.ack(again)
    await survivor.close()
    assert await direct.xlen(COMMANDS_STREAM) == 0


async def test_a_command_still_being_acted_on_is_not_claimed(direct: aioredis.Redis) -> None:
    slow, other = ingest_queue(claim_idle_s=0.6), ingest_queue(claim_idle_s=0.6)
    await slow.put(START)
    taken = await slow.get(timeout_s=1.0)
    assert taken is not None
    for _ in range(4):
        await asyncio.sleep(0.35)
        await slow.touch(taken)
        assert await other.get(timeout_s=0.05) is None
    await slow.ack(taken)
    await slow.close()
    await other.close()


async def test_forwarded_commands_reach_the_holder_even_when_sent_during_its_outage(
    direct: aioredis.Redis, redis_link: RedisLink
) -> None:
    holder = ingest_queue(redis_link.url)
    assert await holder.get(timeout_s=0.1) is None
    redis_link.cut()
    sender = RedisCommandQueue(settings.REDIS_URL)
    await sender.forward(holder._holder_id or "", COMMAND)  # the holder cannot hear anything now
    await sender.close()
    with pytest.raises(Exception):  # noqa: B017 - whatever the client raises for a reset
        await holder.get(timeout_s=0.1)
    redis_link.restore()
    received = await holder.get(timeout_s=1.0)
    assert received is not None and received.command == COMMAND
    await holder.ack(received)
    await holder.close()


async def test_a_dead_ingests_inbox_goes_back_to_the_shared_queue(direct: aioredis.Redis) -> None:
    registry = RedisRegistry(settings.REDIS_URL, dead_after_s=0.5)
    await registry.beat("dead-ingest")
    sender = RedisCommandQueue(settings.REDIS_URL)
    await sender.forward("dead-ingest", COMMAND)
    await sender.close()
    assert await registry.reap() == 0  # still counts as alive
    await asyncio.sleep(0.6)
    assert await registry.reap() == 1
    assert await registry.reap() == 0  # moved once
    survivor = ingest_queue()
    received = await survivor.get(timeout_s=1.0)
    assert received is not None and received.command == COMMAND
    await survivor.ack(received)
    await survivor.close()
    await registry.close()
    assert not await direct.exists(INBOX_PREFIX + "dead-ingest")


async def test_malformed_entries_are_dropped_and_acknowledged(direct: aioredis.Redis) -> None:
    queue = ingest_queue(claim_idle_s=0.2)
    garbage = ["not json", "[1, 2]", '{"action": "start"}', '{"action": "x"}']
    for raw in garbage:
        await direct.xadd(COMMANDS_STREAM, {FIELD: raw})
    await direct.xadd(COMMANDS_STREAM, {"other": "field"})
    await queue.put(COMMAND)
    got = [await queue.get(timeout_s=0.1) for _ in range(len(garbage) + 2)]
    assert [q.command if q else None for q in got] == [None] * (len(garbage) + 1) + [COMMAND]
    assert await direct.xlen(COMMANDS_STREAM) == 1  # only the good one, not yet acknowledged
    await queue.close()


async def test_commands_left_in_the_previous_releases_list_are_still_served(
    direct: aioredis.Redis,
) -> None:
    """During a rolling deploy a web process of the last release still pushes to the list."""
    await direct.lpush(LEGACY_COMMANDS_KEY, START.to_json())
    queue = ingest_queue()
    received = await queue.get(timeout_s=0.1)
    assert received is not None and received.command == START
    await queue.close()


def test_commands_from_a_newer_release_are_read_without_its_new_fields() -> None:
    raw = json.loads(START.to_json()) | {"field_of_the_future": 1}
    assert StreamCommand.from_json(json.dumps(raw)) == START


def test_a_plain_command_is_written_as_the_previous_release_reads_it() -> None:
    assert "previous_holder" not in json.loads(START.to_json())
    rejoin = START.rejoined(HANDOVER_EVENT, "old-ingest", 1234)
    assert rejoin.rejoin and not START.rejoin
    assert StreamCommand.from_json(rejoin.to_json()) == rejoin


async def test_the_queue_recovers_when_redis_lost_its_groups(direct: aioredis.Redis) -> None:
    """Redis restarted without its data: the consumer group is made again, nothing waits."""
    queue = ingest_queue()
    assert await queue.get(timeout_s=0.1) is None  # the groups exist now
    await clear(direct)  # as after a restart with nothing on disk
    await asyncio.sleep(1.1)  # the claim of abandoned commands is due: it meets no group
    await queue.put(START)
    received = None
    for _ in range(3):
        received = received or await queue.get(timeout_s=0.1)
    assert received is not None and received.command == START
    await queue.close()


async def test_a_forwarded_and_a_shared_command_read_together_are_both_served(
    direct: aioredis.Redis,
) -> None:
    """One read takes a command from the inbox and one from the shared stream: none waits."""
    queue = ingest_queue(claim_idle_s=30.0)
    assert await queue.get(timeout_s=0.1) is None
    await queue.put(START)
    await queue.forward(queue._holder_id or "", COMMAND)
    first = await queue.get(timeout_s=0.5)
    second = await queue.get(timeout_s=0.1)
    assert first is not None and second is not None
    assert (first.command, second.command) == (COMMAND, START)  # the inbox first
    await queue.close()


async def test_an_ingest_that_stops_returns_its_inbox_to_the_shared_queue(
    direct: aioredis.Redis,
) -> None:
    registry = RedisRegistry(settings.REDIS_URL)
    sender = RedisCommandQueue(settings.REDIS_URL)
    await sender.forward("stopping-ingest", COMMAND)  # it held the stream a moment ago
    await sender.close()
    assert await registry.return_inbox("stopping-ingest") == 1
    survivor = ingest_queue()
    received = await survivor.get(timeout_s=1.0)
    assert received is not None and received.command == COMMAND
    await survivor.close()
    await registry.close()
