"""Celery tasks of the ingest: thin adapters over the services and the lease module."""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from assistant.services import meetings
from rtms_ingest.cluster.leases import held_streams

log = logging.getLogger(__name__)


# The name predates this module; beat schedules and queued messages know it.
@shared_task(name="assistant.sweep_orphaned_streams", acks_late=True, soft_time_limit=60)
def sweep_orphaned_streams() -> int:
    """Fail open meetings no ingest holds (idempotent: a failed meeting is no longer open)."""

    def is_held(stream_ids: list[str]) -> set[str]:
        return held_streams(settings.REDIS_URL, stream_ids)

    created_before = timezone.now() - timedelta(seconds=settings.RTMS_ORPHAN_GRACE_S)
    count = meetings.fail_orphaned_streams(is_held, created_before)
    if count:
        log.info("marked %d orphaned streams failed", count)
    return count
