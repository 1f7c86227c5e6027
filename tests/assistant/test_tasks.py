"""Celery tasks, run as plain functions against the real PostgreSQL and Redis."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from assistant.models import WebhookDelivery
from assistant.tasks import purge_webhook_deliveries

pytestmark = pytest.mark.django_db


def test_old_webhook_deliveries_are_purged() -> None:
    old = WebhookDelivery.objects.create(dedupe_key="a", event="e", payload={})
    WebhookDelivery.objects.filter(pk=old.pk).update(received_at=timezone.now() - timedelta(days=8))
    WebhookDelivery.objects.create(dedupe_key="b", event="e", payload={})
    assert purge_webhook_deliveries() == 1
    assert list(WebhookDelivery.objects.values_list("dedupe_key", flat=True)) == ["b"]
