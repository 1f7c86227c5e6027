"""Celery tasks of the ingest: thin adapters over the services and the lease module."""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from assistant.services import meetings
from rtms_ingest.cluster.leases import held_streams
from rtms_ingest.cluster.registry import rejoinable_streams
from rtms_ingest.runtime.build import dead_after_s

log = logging.getLogger(__name__)


# The name predates this module; beat schedules and queued messages know it.
@shared_task(name="assistant.sweep_orphaned_streams", acks_late=True, soft_time_limit=60)
def sweep_orphaned_streams() -> int:
    """Fail open meetings no ingest holds or will rejoin (idempotent: failed is not open).

    A stream whose holder died is rejoined by another ingest within seconds (the ingests look
    for live streams nobody holds): its meeting is left open for them. It fails here when no
    ingest is alive to rejoin it, or when it was never registered live (it cannot be rejoined).
    """

    def is_held(stream_ids: list[str]) -> set[str]:
        held = held_streams(settings.REDIS_URL, stream_ids)
        unheld = [stream_id for stream_id in stream_ids if stream_id not in held]
        return held | rejoinable_streams(settings.REDIS_URL, unheld, dead_after_s())

    created_before = timezone.now() - timedelta(seconds=settings.RTMS_ORPHAN_GRACE_S)
    count = meetings.fail_orphaned_streams(is_held, created_before)
    if count:
        log.info("marked %d orphaned streams failed", count)
    return count
