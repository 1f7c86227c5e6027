"""The webhook through a PostgreSQL restart: 503, nothing stored half-way, Zoom's retry acted on.

The outage is real (tests/postgres_outage.py). Where the failure needs an exact moment (the
connection breaking right after the INSERT, Redis failing as the database goes), the step
before it is a real call wrapped by a stand-in named for what it injects.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
import redis
from channels.db import database_sync_to_async
from django.contrib.auth.models import User
from django.db import connection

from assistant import jobs
from assistant.models import DeauthorizationAudit, Meeting, WebhookDelivery
from assistant.services.webhooks import record_delivery
from rtms_ingest.cluster.commands import StreamCommand
from rtms_ingest.webhooks import receiver
from tests.assistant.zoomapp.zoom_stand_in import ZoomStandIn
from tests.postgres_outage import DatabaseOutage
from tests.rtms_ingest.webhooks.edge import apost
from tests.rtms_ingest.webhooks.test_deauthorized import _hosted_meeting, event
from tests.rtms_ingest.webhooks.test_receiver import queued, started

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(60)]


async def at_the_edge(body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """POST through the ASGI edge, as daphne serves it in production."""
    response = await apost(body)
    return response.status_code, response.json() if response.content else {}


@database_sync_to_async
def deliveries() -> list[str]:
    return list(WebhookDelivery.objects.values_list("dedupe_key", flat=True))


async def until_forgotten() -> None:
    """Until the delivery answered 503 is gone (removed in the background once the DB is back)."""
    async with asyncio.timeout(15):
        while await deliveries():
            await asyncio.sleep(0.1)


async def test_a_delivery_while_the_database_is_down_is_503_and_its_retry_is_acted_on(
    queue: redis.Redis, database_outage: DatabaseOutage
) -> None:
    await database_outage.abegin()
    status, answer = await at_the_edge(started())
    assert status == 503 and "retry" in answer["error"]
    assert queued(queue) == [], "nothing reached the ingest"
    await database_outage.aend()
    assert await deliveries() == [], "nothing stored"
    assert await at_the_edge(started()) == (200, {"status": "accepted"})
    assert [command.rtms_stream_id for command in queued(queue)] == ["stream-1"]
    await asyncio.sleep(2.5)  # past the longest retry delay: nothing removes it later
    assert len(await deliveries()) == 1, "the retry's delivery stays, so a duplicate is one"


async def test_a_delivery_whose_insert_answer_was_lost_is_forgotten_once_the_database_is_back(
    queue: redis.Redis, database_outage: DatabaseOutage, monkeypatch: pytest.MonkeyPatch
) -> None:
    def record_delivery_then_lose_the_answer(*args: Any) -> bool:
        """The INSERT commits, then the database restarts before its answer is read."""
        stored = record_delivery(*args)
        database_outage.begin()
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")  # the connection was cut: a real OperationalError
        return stored

    monkeypatch.setattr(receiver, "record_delivery", record_delivery_then_lose_the_answer)
    status, answer = await at_the_edge(started())
    assert status == 503 and "retry" in answer["error"]
    await asyncio.sleep(1.0)
    await database_outage.aend()
    await until_forgotten()
    assert queued(queue) == []
    monkeypatch.setattr(receiver, "record_delivery", record_delivery)
    assert await at_the_edge(started()) == (200, {"status": "accepted"})
    assert [command.rtms_stream_id for command in queued(queue)] == ["stream-1"]


async def test_a_delivery_stored_but_not_queued_as_the_database_goes_is_forgotten_once_it_is_back(
    queue: redis.Redis, database_outage: DatabaseOutage, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def hand_over_failing_as_the_database_goes(command: StreamCommand) -> None:
        await database_outage.abegin()
        raise ConnectionError("Redis is restarting too")

    real_hand_over = receiver.hand_over
    monkeypatch.setattr(receiver, "hand_over", hand_over_failing_as_the_database_goes)
    status, answer = await at_the_edge(started())
    assert status == 503 and "queued" in answer["error"]
    await asyncio.sleep(1.0)
    await database_outage.aend()
    await until_forgotten()
    monkeypatch.setattr(receiver, "hand_over", real_hand_over)
    assert await at_the_edge(started()) == (200, {"status": "accepted"})
    assert [command.rtms_stream_id for command in queued(queue)] == ["stream-1"]


def audits_and_meetings(meeting_id: int) -> tuple[int, bool]:
    return DeauthorizationAudit.objects.count(), Meeting.objects.filter(pk=meeting_id).exists()


async def test_a_deauthorization_while_the_database_is_down_is_503_and_its_retry_is_carried_out(
    zoom: ZoomStandIn,
    make_meeting: Callable[..., Meeting],
    host: User,
    database_outage: DatabaseOutage,
) -> None:
    meeting = await database_sync_to_async(_hosted_meeting)(make_meeting, host)
    # Another user's first: the thread that deletes holds a connection when the outage cuts it.
    assert await at_the_edge(event(user_id="zoom-someone-else")) == (200, {"status": "accepted"})
    await database_outage.abegin()
    status, _ = await at_the_edge(event())
    assert status == 503
    await asyncio.to_thread(database_outage.end)  # that thread's dead connection is left as is
    assert await at_the_edge(event()) == (200, {"status": "accepted"})
    assert await database_sync_to_async(audits_and_meetings)(meeting.pk) == (2, False)
    await asyncio.to_thread(jobs.shutdown)  # the compliance reports
