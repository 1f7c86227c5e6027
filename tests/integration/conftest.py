"""The real production shape for end-to-end tests: web + ingest processes on PostgreSQL/Redis."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connections
from django.test import Client

from assistant.models import ZoomUserLink
from tests.integration.asr_fixtures import ASR_REDIS_URL
from tests.integration.own_redis import OwnRedis, own_redis
from tests.integration.stack import Stack, running_stack

# Its own Redis database: the stack's ingest must not take other tests' queued commands. Two
# runs at once on one machine (a developer's and CI's) need one each: TEST_STACK_REDIS_URL.
STACK_REDIS_URL = os.environ.get("TEST_STACK_REDIS_URL", "redis://127.0.0.1:6379/14")
OPERATOR_ID = "e2e-operator"


@pytest.fixture(scope="session")
def stack(
    django_db_setup: Any, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    """daphne and run_ingest as separate processes on the test database."""
    db = settings.DATABASES["default"]
    database_url = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    redis.Redis.from_url(STACK_REDIS_URL).flushdb()
    with running_stack(database_url, STACK_REDIS_URL, tmp_path_factory.mktemp("stack")) as s:
        yield s


def stack_database_url() -> str:
    """The test database as a DATABASE_URL for the processes a test starts."""
    db = settings.DATABASES["default"]
    return f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


@pytest.fixture
def own_redis_server(tmp_path: Path) -> Iterator[OwnRedis]:
    """A redis-server of this test's own (append-only, its own folder), to kill and restart."""
    with own_redis(tmp_path / "redis") as server:
        yield server


@pytest.fixture
def viewer_cookie(transactional_db: None) -> tuple[Any, str]:
    """A signed-in host linked to the simulator's operator id, and their session cookie."""
    user = get_user_model().objects.create_user("e2e-host", password="x-e2e-pass-1")
    ZoomUserLink.objects.create(user=user, zoom_user_id=OPERATOR_ID)
    client = Client()
    client.force_login(user)
    return user, f"sessionid={client.cookies['sessionid'].value}"


def log_tail(path: Path, lines: int = 40) -> str:
    """The end of a process log, for failure messages."""
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


@pytest.fixture(autouse=True)
async def close_async_test_connections() -> AsyncIterator[None]:
    """Close the database connection of the thread that async tests query from."""
    yield
    await sync_to_async(connections.close_all)()


@pytest.fixture
def asr_broker(settings: Any) -> Iterator[None]:
    """This test process hands utterances to the stack's Redis, as its ingest would."""
    from assistant.celery import app

    original = app.conf.broker_url
    settings.JOBS_IN_PROCESS = False
    settings.REDIS_URL = ASR_REDIS_URL  # the audio store
    _publish_to(app, ASR_REDIS_URL)
    yield
    _publish_to(app, original)


def _publish_to(app: Any, url: str) -> None:
    app.conf.broker_url = url
    # The app caches producer pools built from the broker URL: drop them for the new one.
    app._pool = None
    app.amqp._producer_pool = None
