"""The simulator's webhooks: Zoom's envelope, signed over the exact bytes, per product."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from rtms_ingest.protocol.webhook_signing import is_valid_webhook_signature
from rtms_ingest.simulator import RtmsSimulator, WebhookDeliveryError
from rtms_ingest.simulator.faults import Faults
from rtms_ingest.simulator.fixture import RecordedMeeting
from tests.rtms_ingest.simulator.simulator_client import (
    CLIENT_ID,
    CLIENT_SECRET,
    WEBHOOK_TOKEN,
    RawClient,
    WebhookReceiver,
    make_config,
    short_meeting,
)


@pytest.fixture
def meeting(tmp_path: Path) -> RecordedMeeting:
    return short_meeting(tmp_path / "meeting", audio=False)


@pytest.fixture
async def receiver() -> AsyncIterator[WebhookReceiver]:
    endpoint = WebhookReceiver()
    yield endpoint
    endpoint.close()


def _assert_signed(delivery_headers: dict[str, str], body: bytes) -> None:
    assert delivery_headers["content-type"] == "application/json"
    timestamp = delivery_headers["x-zm-request-timestamp"]
    assert abs(int(timestamp) - time.time()) < 60  # seconds, not ms
    signature = delivery_headers["x-zm-signature"]
    assert is_valid_webhook_signature(WEBHOOK_TOKEN, timestamp, body, signature)
    uuid.UUID(delivery_headers["x-zm-trackingid"])


async def test_started_webhook_leads_a_client_to_the_stream_and_stopped_follows(
    meeting: RecordedMeeting, receiver: WebhookReceiver
) -> None:
    async with RtmsSimulator(meeting, make_config(webhook_url=receiver.url)) as sim:
        play = asyncio.create_task(sim.play())
        started = await receiver.next()
        _assert_signed(started.headers, started.body)
        body = started.json
        assert body["event"] == "meeting.rtms_started"
        assert abs(body["event_ts"] - time.time() * 1000) < 60_000  # milliseconds
        payload = body["payload"]
        assert set(payload) == {
            "meeting_uuid",
            "rtms_stream_id",
            "server_urls",
            "operator_id",
            # Zoom's April 2026 additions (reference §7).
            "account_id",
            "is_original_host",
            "meeting_id",
        }
        assert payload["account_id"] == "simulated-account"
        assert payload["is_original_host"] is True
        assert isinstance(payload["meeting_id"], int) and payload["meeting_id"] >= 10**10
        client = RawClient(
            payload["server_urls"],
            CLIENT_ID,
            CLIENT_SECRET,
            payload["meeting_uuid"],
            payload["rtms_stream_id"],
        )
        assert (await client.handshake())["status_code"] == 0
        await client.open_media("transcript")
        await client.ready()
        report = await play
        stopped = await receiver.next()
    _assert_signed(stopped.headers, stopped.body)
    assert stopped.json["event"] == "meeting.rtms_stopped"
    assert stopped.json["payload"] == {
        "meeting_uuid": payload["meeting_uuid"],
        "rtms_stream_id": payload["rtms_stream_id"],
        "stop_reason": 6,
    }
    assert report.webhooks == ["meeting.rtms_started", "meeting.rtms_stopped"]
    assert len(client.messages(17)) == len(meeting.utterances)


@pytest.mark.parametrize(
    ("product", "started", "stopped", "id_field"),
    [
        ("meeting", "meeting.rtms_started", "meeting.rtms_stopped", "meeting_uuid"),
        ("webinar", "webinar.rtms_started", "webinar.rtms_stopped", "meeting_uuid"),
        ("video_sdk", "session.rtms_started", "session.rtms_stopped", "session_id"),
        (
            "contact_center",
            "contact_center.voice_rtms_started",
            "contact_center.voice_rtms_stopped",
            "engagement_id",
        ),
    ],
)
async def test_each_product_names_its_events_and_id_field(
    meeting: RecordedMeeting,
    receiver: WebhookReceiver,
    product: str,
    started: str,
    stopped: str,
    id_field: str,
) -> None:
    config = make_config(webhook_url=receiver.url, product=product, connect_timeout_s=0.1)
    async with RtmsSimulator(meeting, config) as sim:
        stream = sim.new_stream(meeting_uuid="owner==")
        report = await sim.play(stream)
    first, second = await receiver.next(), await receiver.next()
    assert (first.json["event"], second.json["event"]) == (started, stopped)
    assert first.json["payload"][id_field] == "owner=="
    assert second.json["payload"][id_field] == "owner=="
    assert first.json["payload"]["server_urls"] == stream.signaling_url
    assert stream.webhook_payload(started)["payload"] == first.json["payload"]
    # The numeric id of 2026 (reference §7): meetings and webinars only, each its own field.
    number_field = {"meeting": "meeting_id", "webinar": "webinar_id"}.get(product)
    numbered = {"meeting_id", "webinar_id", "account_id"} & set(first.json["payload"])
    if number_field is None:
        assert numbered == set()
    else:
        assert numbered == {number_field, "account_id"}
        assert first.json["payload"][number_field] == stream.meeting_number
    # Nobody connected: the stream gives up with CONNECTION_TIMEOUT.
    assert (report.joined, second.json["payload"]["stop_reason"]) == (False, 11)


async def test_unreachable_webhook_target_raises_a_clear_error(
    meeting: RecordedMeeting,
) -> None:
    config = make_config(webhook_url="http://127.0.0.1:9/x")
    async with RtmsSimulator(meeting, config) as sim:
        with pytest.raises(WebhookDeliveryError, match=r"127\.0\.0\.1:9/x is unreachable: conn"):
            await sim.play()
        assert sim.streams == {}


async def test_non_2xx_answer_raises_a_clear_error(meeting: RecordedMeeting) -> None:
    endpoint = WebhookReceiver(status=500)
    try:
        async with RtmsSimulator(meeting, make_config(webhook_url=endpoint.url)) as sim:
            with pytest.raises(WebhookDeliveryError, match="answered HTTP 500"):
                await sim.play()
    finally:
        endpoint.close()


async def test_the_concurrency_limited_fault_posts_zooms_refusal_and_offers_no_stream(
    meeting: RecordedMeeting, receiver: WebhookReceiver
) -> None:
    config = make_config(webhook_url=receiver.url, faults=Faults(concurrency_limited=True))
    async with RtmsSimulator(meeting, config) as sim:
        stream = sim.new_stream(meeting_uuid="refused==")
        report = await sim.play(stream)
        assert sim.streams == {}  # nothing to connect to
    refusal = await receiver.next()
    _assert_signed(refusal.headers, refusal.body)
    assert refusal.json["event"] == "meeting.rtms_concurrency_limited"
    assert refusal.json["payload"] == {
        "meeting_uuid": "refused==",
        "account_id": "simulated-account",
    }
    assert report.webhooks == ["meeting.rtms_concurrency_limited"]  # no started, no stopped
    assert not report.joined
