"""Zoom webhook deliveries: stored once each, so a retry or a duplicate is not acted on twice."""

from __future__ import annotations

from contextlib import nullcontext
from typing import Any

from django.db import IntegrityError, transaction

from assistant.models import WebhookDelivery


def delivery_key(envelope: dict[str, Any], stream_id: str) -> str:
    """One key per event: a retry or duplicate delivery repeats event, event_ts and stream."""
    return f"{envelope['event']}:{envelope.get('event_ts')}:{stream_id}"[:300]


def record_delivery(key: str, envelope: dict[str, Any], stream_id: str) -> bool:
    """Store a delivery under `key`; False if one was stored under it before."""
    event_ts = envelope.get("event_ts")
    delivery = WebhookDelivery(
        dedupe_key=key,
        event=envelope["event"],
        event_ts=event_ts if isinstance(event_ts, int) else None,
        rtms_stream_id=stream_id,
        payload=envelope,
    )
    # In autocommit (the webhook's DB threads) the INSERT is a transaction of its own and a
    # duplicate fails only itself: no BEGIN and COMMIT round trips. Inside a caller's
    # transaction a savepoint keeps the duplicate from breaking it.
    guard = transaction.atomic() if transaction.get_connection().in_atomic_block else nullcontext()
    try:
        with guard:
            delivery.save(force_insert=True)
    except IntegrityError:
        return False
    return True


def forget_delivery(key: str) -> None:
    """Remove a stored delivery that was not acted on, so that Zoom's retry of it is."""
    WebhookDelivery.objects.filter(dedupe_key=key).delete()
