"""The Zoom webhook receiver: signatures, validation, deduplication, hand-off to the ingest.

Every delivery goes in as in production, through the ASGI application (`edge.post`).
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import pytest
import redis
from django.conf import settings
from django.test.utils import override_settings

from assistant.models import WebhookDelivery
from rtms_ingest.cluster.commands import StreamCommand
from rtms_ingest.protocol.webhook_signing import webhook_signature
from rtms_ingest.webhooks.receiver import Answer, receive_delivery
from tests.integration.own_redis import own_redis
from tests.rtms_ingest.queued_commands import queued_commands
from tests.rtms_ingest.webhooks.edge import SECRET, URL, apost, post, request


def started(stream_id: str = "stream-1", event_ts: int = 1_700_000_000_000) -> dict[str, Any]:
    return {
        "event": "meeting.rtms_started",
        "event_ts": event_ts,
        "payload": {
            "meeting_uuid": "4444AAAiAAAAAiAiAiiAii==",
            "operator_id": "zoom-host-1",
            "rtms_stream_id": stream_id,
            "server_urls": "ws://127.0.0.1:9/signaling",
        },
    }


def queued(r: redis.Redis) -> list[StreamCommand]:
    return queued_commands(r)


@pytest.mark.django_db(transaction=True)
def test_signed_rtms_started_is_accepted_and_queued_for_the_ingest(queue: redis.Redis) -> None:
    response = post(started())
    assert response.status_code == 200
    [command] = queued(queue)
    assert command.action == "start"
    assert command.rtms_stream_id == "stream-1"
    assert command.zoom_id == "4444AAAiAAAAAiAiAiiAii=="
    assert command.server_urls == "ws://127.0.0.1:9/signaling"
    assert command.operator_id == "zoom-host-1"


@pytest.mark.django_db(transaction=True)
def test_url_validation_answers_with_the_hmac_of_the_plain_token(queue: redis.Redis) -> None:
    body = {"event": "endpoint.url_validation", "event_ts": 1, "payload": {"plainToken": "abc"}}
    response = post(body)
    assert response.status_code == 200
    # hex(HMAC_SHA256("test-webhook-secret", "abc"))
    import hashlib
    import hmac

    expected = hmac.new(SECRET.encode(), b"abc", hashlib.sha256).hexdigest()
    assert response.json() == {"plainToken": "abc", "encryptedToken": expected}


@pytest.mark.django_db(transaction=True)
def test_wrong_signature_is_401_and_nothing_is_queued(queue: redis.Redis) -> None:
    response = post(started(), secret="not-the-secret")
    assert response.status_code == 401
    assert queued(queue) == []
    assert not WebhookDelivery.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_signature_over_other_bytes_than_the_body_is_401(queue: redis.Redis) -> None:
    raw = json.dumps(started()).encode()
    ts = str(int(time.time()))
    forged = webhook_signature(SECRET, ts, raw.replace(b"stream-1", b"stream-2"))
    assert post(raw, timestamp=int(ts), signature=forged).status_code == 401


@pytest.mark.django_db(transaction=True)
def test_missing_signature_headers_are_401(queue: redis.Redis) -> None:
    response = post(started(), signed=False)
    assert response.status_code == 401


@pytest.mark.django_db(transaction=True)
def test_stale_timestamp_is_401_even_with_a_valid_signature(queue: redis.Redis) -> None:
    response = post(started(), timestamp=int(time.time()) - 301)
    assert response.status_code == 401
    assert "window" in response.json()["error"]


@pytest.mark.django_db(transaction=True)
@override_settings(ZOOM_WEBHOOK_SECRET_TOKEN="")
def test_missing_secret_refuses_every_request_instead_of_skipping_the_check(
    queue: redis.Redis,
) -> None:
    response = post(started(), secret="")
    assert response.status_code == 503
    assert queued(queue) == []


@pytest.mark.django_db(transaction=True)
def test_malformed_json_is_400_with_a_reason(queue: redis.Redis) -> None:
    response = post(b'{"event": "meeting.rtms_started",')
    assert response.status_code == 400
    assert "JSON" in response.json()["error"]


@pytest.mark.django_db(transaction=True)
def test_rtms_started_without_server_urls_is_400(queue: redis.Redis) -> None:
    body = started()
    del body["payload"]["server_urls"]
    response = post(body)
    assert response.status_code == 400
    assert "server_urls" in response.json()["error"]


@pytest.mark.django_db(transaction=True)
def test_oversized_body_is_413(queue: redis.Redis) -> None:
    body = started()
    body["payload"]["padding"] = "x" * (settings.ZOOM_WEBHOOK_MAX_BODY_BYTES + 1)
    assert post(body).status_code == 413


@pytest.mark.django_db(transaction=True)
async def test_get_is_not_allowed(queue: redis.Redis) -> None:
    assert (await request(URL, [b""], [], method="GET")).status_code == 405


@pytest.mark.django_db(transaction=True)
def test_duplicate_delivery_is_stored_and_queued_once(queue: redis.Redis) -> None:
    assert post(started()).json() == {"status": "accepted"}
    assert post(started()).json() == {"status": "duplicate"}
    assert len(queued(queue)) == 1
    assert WebhookDelivery.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_unrelated_events_are_acknowledged_without_work(queue: redis.Redis) -> None:
    body = {"event": "meeting.participant_joined", "event_ts": 5, "payload": {"object": {}}}
    assert post(body).status_code == 204
    assert queued(queue) == []


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("event", "id_field", "product"),
    [
        ("webinar.rtms_started", "meeting_uuid", "webinar"),
        ("session.rtms_started", "session_id", "video_sdk"),
        ("contact_center.voice_rtms_started", "engagement_id", "contact_center"),
    ],
)
def test_other_products_are_queued_with_their_own_id(
    queue: redis.Redis, event: str, id_field: str, product: str
) -> None:
    body = {
        "event": event,
        "event_ts": 7,
        "payload": {"rtms_stream_id": "s9", "server_urls": "ws://x/", id_field: "owner-9"},
    }
    assert post(body).status_code == 200
    [command] = queued(queue)
    assert (command.product, command.zoom_id) == (product, "owner-9")


@pytest.mark.django_db(transaction=True)
def test_rtms_stopped_is_queued_with_its_stop_reason(queue: redis.Redis) -> None:
    body = {
        "event": "meeting.rtms_stopped",
        "event_ts": 9,
        "payload": {"meeting_uuid": "u==", "rtms_stream_id": "s1", "stop_reason": 6},
    }
    assert post(body).status_code == 200
    [command] = queued(queue)
    assert (command.action, command.stop_reason) == ("stop", 6)


@pytest.mark.django_db(transaction=True)
def test_delivery_that_cannot_be_queued_is_503_and_zoom_retry_is_queued(
    queue: redis.Redis,
) -> None:
    # A real Redis client against a port nothing listens on: the queue is down.
    with override_settings(REDIS_URL="redis://127.0.0.1:1/0"):
        refused = post(started())
    assert refused.status_code == 503
    assert "retry" in refused.json()["error"]
    assert not WebhookDelivery.objects.exists()
    retried = post(started())
    assert retried.json() == {"status": "accepted"}
    assert [command.rtms_stream_id for command in queued(queue)] == ["stream-1"]


async def deliver(body: dict[str, Any]) -> Answer:
    """One signed delivery through the application, on the test's event loop (as daphne's)."""
    response = await apost(body)
    return Answer(response.status_code, response.json() if response.content else None)


@pytest.mark.django_db(transaction=True)
async def test_deliveries_while_redis_restarts_are_503_and_the_first_after_it_is_queued(
    tmp_path: Path,
) -> None:
    with own_redis(tmp_path / "redis") as server, override_settings(REDIS_URL=server.url()):
        assert (await deliver(started("before"))).status == 200
        server.kill()
        await asyncio.to_thread(server.start)
        # The web process's connection to the old server is dead: the delivery must not be.
        assert (await deliver(started("after"))).status == 200
        server.kill()
        started_at = time.monotonic()
        down = await deliver(started("during"))
        assert time.monotonic() - started_at < 5, "Zoom gives a webhook 3 s"
        await asyncio.to_thread(server.start)
        with redis.Redis.from_url(server.url()) as client:
            queued_ids = [command.rtms_stream_id for command in queued(client)]
    assert (down.status, down.body) == (
        503,
        {"error": "the stream command could not be queued; retry later"},
    )
    assert queued_ids == ["before", "after"]


# `str.isdigit` takes digits `int` refuses ('\u00b2', as a Latin-1 header byte decodes) or reads
# (fullwidth digits): neither is a number on the wire.
FULLWIDTH = {ord("0") + d: 0xFF10 + d for d in range(10)}
UNICODE_DIGITS = ["\u00b2", str(int(time.time())).translate(FULLWIDTH)]


@pytest.mark.parametrize("timestamp", UNICODE_DIGITS)
async def test_a_timestamp_of_unicode_digits_is_401(timestamp: str) -> None:
    raw = json.dumps(started()).encode()
    headers = {
        "x-zm-request-timestamp": timestamp,
        "x-zm-signature": webhook_signature(SECRET, timestamp, raw),
    }
    with override_settings(ZOOM_WEBHOOK_SECRET_TOKEN=SECRET):
        answer = await receive_delivery(headers, raw)
    assert answer == Answer(401, {"error": "x-zm-request-timestamp is not a unix time"})


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("length", UNICODE_DIGITS)
async def test_a_content_length_of_unicode_digits_is_400(queue: redis.Redis, length: str) -> None:
    # As a header carries it: Latin-1 where it can be ('\u00b2' is the byte 0xb2), else UTF-8.
    encoded = length.encode("latin-1") if max(map(ord, length)) < 256 else length.encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", encoded)]
    response = await request(URL, [b"{}"], headers)
    assert response.status_code == 400
    assert queued(queue) == []


@pytest.mark.django_db(transaction=True)
def test_the_2026_rtms_started_fields_are_queued(queue: redis.Redis) -> None:
    body = started()
    body["payload"] |= {"account_id": "acct-7", "is_original_host": False, "meeting_id": 85746}
    assert post(body).status_code == 200
    [command] = queued(queue)
    assert (command.account_id, command.meeting_number) == ("acct-7", 85746)
    assert command.is_original_host is False


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("fields", "number"),
    [
        ({"webinar_id": "91234"}, 91234),  # a webinar's, and as digits (UNCONFIRMED type)
        ({"meeting_id": 2**70, "is_original_host": "yes", "account_id": 5}, None),
        ({"meeting_id": True, "account_id": "x" * 65}, None),
    ],
)
def test_odd_2026_fields_are_left_out_not_refused(
    queue: redis.Redis, fields: dict[str, Any], number: int | None
) -> None:
    body = started()
    body["payload"] |= fields
    assert post(body).status_code == 200
    [command] = queued(queue)
    assert (command.account_id, command.meeting_number) == ("", number)
    assert command.is_original_host is None
