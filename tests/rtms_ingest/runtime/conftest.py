"""Fixtures of the ingest's runtime tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
import redis
from django.conf import settings

from rtms_ingest.cluster.commands import StreamCommand
from tests.rtms_ingest.queued_commands import clear_queue, queued_commands


@pytest.fixture
def queued() -> Iterator[Callable[[], list[StreamCommand]]]:
    """The commands handed to the ingest through Redis (the test settings' production shape)."""
    r = redis.Redis.from_url(settings.REDIS_URL)
    clear_queue(r)
    yield lambda: queued_commands(r)
    clear_queue(r)
    r.close()
