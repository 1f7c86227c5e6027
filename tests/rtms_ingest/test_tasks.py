"""The ingest's Celery tasks, run as plain functions against the real PostgreSQL and Redis."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta

import pytest
import redis
from django.conf import settings
from django.test import override_settings
from django.utils import timezone

from assistant.models import Meeting
from rtms_ingest.cluster.commands import StreamCommand
from rtms_ingest.cluster.leases import LEASE_PREFIX
from rtms_ingest.cluster.registry import INGESTS_KEY, LIVE_STREAMS_KEY
from rtms_ingest.tasks import sweep_orphaned_streams

pytestmark = pytest.mark.django_db


@override_settings(RTMS_ORPHAN_GRACE_S=0)
def test_open_meeting_without_a_lease_is_marked_failed(
    make_meeting: Callable[..., Meeting],
) -> None:
    held = make_meeting(state=Meeting.State.LIVE)
    orphan = make_meeting(state=Meeting.State.LIVE)
    ended = make_meeting(state=Meeting.State.ENDED)
    r = redis.Redis.from_url(settings.REDIS_URL)
    r.set(LEASE_PREFIX + held.rtms_stream_id, "some-ingest", px=10_000)
    try:
        assert sweep_orphaned_streams() == 1
    finally:
        r.delete(LEASE_PREFIX + held.rtms_stream_id)
    states = dict(Meeting.objects.values_list("pk", "state"))
    assert states == {held.pk: "live", orphan.pk: "failed", ended.pk: "ended"}


def test_recent_open_meetings_get_a_grace_period(make_meeting: Callable[..., Meeting]) -> None:
    fresh = make_meeting(state=Meeting.State.CONNECTING)
    assert sweep_orphaned_streams() == 0
    old = timezone.now() - timedelta(seconds=settings.RTMS_ORPHAN_GRACE_S + 1)
    Meeting.objects.filter(pk=fresh.pk).update(created_at=old)
    assert sweep_orphaned_streams() == 1


@override_settings(RTMS_ORPHAN_GRACE_S=0)
def test_an_unheld_live_stream_is_left_to_the_ingests_while_one_is_alive(
    make_meeting: Callable[..., Meeting],
) -> None:
    """Its holder died; a live ingest rejoins it within seconds: failing it would end it."""
    orphan = make_meeting(state=Meeting.State.LIVE)
    r = redis.Redis.from_url(settings.REDIS_URL)
    start = StreamCommand("start", "meeting", orphan.zoom_id, orphan.rtms_stream_id, "wss://x/s")
    r.hset(LIVE_STREAMS_KEY, orphan.rtms_stream_id, start.to_json())
    try:
        r.zadd(INGESTS_KEY, {"live-ingest": int(time.time() * 1000)})
        assert sweep_orphaned_streams() == 0
        r.zadd(INGESTS_KEY, {"live-ingest": int((time.time() - 3600) * 1000)})  # it died too
        assert sweep_orphaned_streams() == 1
    finally:
        r.delete(INGESTS_KEY)
        r.hdel(LIVE_STREAMS_KEY, orphan.rtms_stream_id)
    orphan.refresh_from_db()
    assert orphan.state == Meeting.State.FAILED
