"""Zoom webhook deliveries: stored once each, so a retry or a duplicate is not acted on twice."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction

from assistant.models import WebhookDelivery


def delivery_key(envelope: dict[str, Any], stream_id: str) -> str:
    """One key per event: a retry or duplicate delivery repeats event, event_ts and stream."""
    return f"{envelope['event']}:{envelope.get('event_ts')}:{stream_id}"[:300]


def record_delivery(key: str, envelope: dict[str, Any], stream_id: str) -> bool:
    """Store a delivery under `key`; False if one was stored under it before."""
    event_ts = envelope.get("event_ts")
    try:
        with transaction.atomic():
            WebhookDelivery.objects.create(
                dedupe_key=key,
                event=envelope["event"],
                event_ts=event_ts if isinstance(event_ts, int) else None,
                rtms_stream_id=stream_id,
                payload=envelope,
            )
    except IntegrityError:
        return False
    return True


def forget_delivery(key: str) -> None:
    """Remove a stored delivery that was not acted on, so that Zoom's retry of it is."""
    WebhookDelivery.objects.filter(dedupe_key=key).delete()
