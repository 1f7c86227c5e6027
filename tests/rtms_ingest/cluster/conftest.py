"""Fixtures of the cluster tests: a cuttable link to the test Redis."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from django.conf import settings

from tests.rtms_ingest.cluster.redis_link import RedisLink


@pytest.fixture
async def redis_link() -> AsyncIterator[RedisLink]:
    """A cuttable link to the test Redis (settings.REDIS_URL)."""
    link = RedisLink(settings.REDIS_URL)
    await link.start()
    yield link
    await link.close()
