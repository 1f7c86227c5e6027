"""Webhook deliveries: stored once, and forgotten when they could not be acted on."""

from __future__ import annotations

from typing import Any

import pytest

from assistant.models import WebhookDelivery
from assistant.services.webhooks import delivery_key, forget_delivery, record_delivery

pytestmark = pytest.mark.django_db

ENVELOPE: dict[str, Any] = {
    "event": "meeting.rtms_started",
    "event_ts": 1_700_000_000_000,
    "payload": {"rtms_stream_id": "s-1"},
}


def test_second_delivery_of_an_event_is_reported_as_seen() -> None:
    key = delivery_key(ENVELOPE, "s-1")
    assert record_delivery(key, ENVELOPE, "s-1")
    assert not record_delivery(key, ENVELOPE, "s-1")
    assert WebhookDelivery.objects.get().event_ts == 1_700_000_000_000


def test_forgotten_delivery_is_recorded_again_when_retried() -> None:
    key = delivery_key(ENVELOPE, "s-1")
    record_delivery(key, ENVELOPE, "s-1")
    forget_delivery(key)
    assert record_delivery(key, ENVELOPE, "s-1")


def test_retry_has_the_key_of_the_first_delivery_and_another_event_does_not() -> None:
    retry = {**ENVELOPE, "payload": {"rtms_stream_id": "s-1", "extra": 1}}
    stopped = {**ENVELOPE, "event": "meeting.rtms_stopped"}
    assert delivery_key(retry, "s-1") == delivery_key(ENVELOPE, "s-1")
    assert delivery_key(stopped, "s-1") != delivery_key(ENVELOPE, "s-1")


@pytest.mark.django_db(transaction=True)
def test_duplicate_in_autocommit_is_reported_and_leaves_the_connection_usable() -> None:
    # The webhook's DB threads run in autocommit, where no transaction is opened for the insert.
    key = delivery_key(ENVELOPE, "s-1")
    assert record_delivery(key, ENVELOPE, "s-1")
    assert not record_delivery(key, ENVELOPE, "s-1")
    other = {**ENVELOPE, "event_ts": ENVELOPE["event_ts"] + 1}
    assert record_delivery(delivery_key(other, "s-1"), other, "s-1")
    assert WebhookDelivery.objects.count() == 2
