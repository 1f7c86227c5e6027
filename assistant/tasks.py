"""Celery tasks: thin adapters over services."""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings

from assistant.services import retention

log = logging.getLogger(__name__)


@shared_task(name="assistant.purge_webhook_deliveries", acks_late=True, soft_time_limit=60)
def purge_webhook_deliveries() -> int:
    """Drop webhook deliveries older than WEBHOOK_RETENTION_DAYS (idempotent)."""
    deleted = retention.purge_webhook_deliveries(settings.WEBHOOK_RETENTION_DAYS)
    log.info("purged %d webhook deliveries", deleted)
    return deleted
