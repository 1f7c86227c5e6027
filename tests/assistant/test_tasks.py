"""Celery tasks, run as plain functions against the real PostgreSQL and Redis."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
import redis
from django.conf import settings
from django.test import override_settings
from django.utils import timezone

from assistant.models import Meeting, WebhookDelivery
from assistant.tasks import purge_webhook_deliveries, sweep_orphaned_streams
from rtms_ingest.leases import LEASE_PREFIX

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


def test_old_webhook_deliveries_are_purged() -> None:
    old = WebhookDelivery.objects.create(dedupe_key="a", event="e", payload={})
    WebhookDelivery.objects.filter(pk=old.pk).update(received_at=timezone.now() - timedelta(days=8))
    WebhookDelivery.objects.create(dedupe_key="b", event="e", payload={})
    assert purge_webhook_deliveries() == 1
    assert list(WebhookDelivery.objects.values_list("dedupe_key", flat=True)) == ["b"]
