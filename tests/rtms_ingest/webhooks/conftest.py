"""Fixtures of the webhook tests: the real command queue, and Zoom's compliance API stood in for."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis
from django.conf import settings
from django.test import override_settings

from tests.assistant.zoomapp.zoom_stand_in import RunningStandIn, ZoomStandIn
from tests.rtms_ingest.queued_commands import clear_queue


@pytest.fixture
def queue() -> Iterator[redis.Redis]:
    """The real Redis command queue, emptied around each test."""
    r = redis.Redis.from_url(settings.REDIS_URL)
    clear_queue(r)
    yield r
    clear_queue(r)
    r.close()


@pytest.fixture
def zoom() -> Iterator[ZoomStandIn]:
    """Zoom's data-compliance API stood in for; jobs (the report) run in this process."""
    stand_in = ZoomStandIn(settings.ZOOM_CLIENT_ID, settings.ZOOM_CLIENT_SECRET, {})
    with (
        RunningStandIn(stand_in) as running,
        override_settings(
            ZOOM_COMPLIANCE_URL=f"{running.base_url}/oauth/data/compliance",
            JOBS_IN_PROCESS=True,
        ),
    ):
        yield stand_in
