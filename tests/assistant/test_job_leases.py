"""assistant.job_leases: a worker's held jobs stay its own while it lives, on a real Redis."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
from django.conf import settings

from assistant.celery import app as celery_app
from assistant.job_leases import RENEWALS_PER_TIMEOUT, JobLeases
from tests.integration.own_redis import own_redis

INDEX = "tests:job-leases:unacked_index"


@pytest.fixture
def index() -> Iterator[redis.Redis]:
    """kombu's index of unacknowledged jobs, under a key of this test's own."""
    client = redis.Redis.from_url(settings.REDIS_URL, decode_responses=True)
    client.delete(INDEX)
    yield client
    client.delete(INDEX)
    client.close()


def test_held_jobs_are_stamped_now_and_acknowledged_ones_are_not_revived(
    index: redis.Redis,
) -> None:
    long_ago = time.time() - 3600
    index.zadd(INDEX, {"held": long_ago, "someone-elses": long_ago})
    leases = JobLeases(settings.REDIS_URL, INDEX, every_s=1)
    try:
        assert leases.renew(["held", "acknowledged-meanwhile"]) == 1
    finally:
        leases.stop()
    assert index.zcard(INDEX) == 2, "an acknowledged job came back"
    assert float(index.zscore(INDEX, "held") or 0) > time.time() - 5
    assert index.zscore(INDEX, "someone-elses") == long_ago


def test_leases_follow_the_broker_settings() -> None:
    leases = JobLeases.for_app(celery_app)
    assert leases is not None
    try:
        assert leases.index_key == "unacked_index"
        timeout_s = settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
        assert timeout_s == settings.JOBS_VISIBILITY_TIMEOUT_S == 30
        assert leases.every_s == timeout_s / RENEWALS_PER_TIMEOUT
    finally:
        leases.stop()


def test_no_leases_without_a_redis_broker(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(celery_app.conf, "broker_url", "memory://")
    assert JobLeases.for_app(celery_app) is None


def test_renewal_goes_on_after_redis_restarts(tmp_path: Path) -> None:
    with own_redis(tmp_path / "redis") as server:
        client = redis.Redis.from_url(server.url(), decode_responses=True)
        leases = JobLeases(server.url(), "unacked_index", every_s=0.2, held=lambda: ["held"])
        leases.start()
        try:
            client.zadd("unacked_index", {"held": 0})
            _until(lambda: _score(client) > 0)
            server.kill()
            time.sleep(1.0)  # several failed renewals
            server.start()
            client.zadd("unacked_index", {"held": 0})
            _until(lambda: _score(client) > 0)
        finally:
            leases.stop()
            client.close()


def _score(client: redis.Redis) -> float:
    return float(client.zscore("unacked_index", "held") or 0)


def _until(condition: Callable[[], bool], timeout_s: float = 5.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "not renewed"
        time.sleep(0.05)
