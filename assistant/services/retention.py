"""Deleting what we no longer need to keep."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from assistant.models import WebhookDelivery


def purge_webhook_deliveries(older_than_days: int) -> int:
    """Delete stored webhook deliveries past the dedupe horizon; returns how many."""
    cutoff = timezone.now() - timedelta(days=older_than_days)
    deleted, _ = WebhookDelivery.objects.filter(received_at__lt=cutoff).delete()
    return deleted
