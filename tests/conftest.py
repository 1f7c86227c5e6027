"""Personas, factories and a database outage, shared by the whole suite."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connections

from assistant.models import Meeting, ZoomUserLink
from rtms_ingest.storage.database import close_db_threads
from tests.postgres_outage import DatabaseOutage

_counter = itertools.count(1)


@pytest.fixture(autouse=True)
def _ingest_db_connections_closed() -> Iterator[None]:
    """The ingest's DB threads keep their connections: close them after each test that used them.

    Otherwise they would outlive the test (and the test database, which cannot be dropped while
    anyone is connected).
    """
    yield
    close_db_threads()


def _user(username: str, **extra: Any) -> User:
    return User.objects.create_user(username=username, password="correct horse 9", **extra)


@pytest.fixture
def host(db: None) -> User:
    """A host who owns meetings started from their Zoom account."""
    user = _user("host")
    ZoomUserLink.objects.create(user=user, zoom_user_id="zoom-host-1")
    return user


@pytest.fixture
def coworker(db: None) -> User:
    """A signed-in user of the same site who does not own the host's meetings."""
    return _user("coworker")


@pytest.fixture
def outsider(db: None) -> User:
    """Another signed-in user with no relation to anything."""
    return _user("outsider")


@pytest.fixture
def admin_user(db: None) -> User:
    """Staff: sees every meeting."""
    return _user("admin", is_staff=True, is_superuser=True)


@pytest.fixture
def make_meeting(db: None) -> Callable[..., Meeting]:
    """Factory for meetings with unique Zoom ids."""

    def make(**fields: Any) -> Meeting:
        n = next(_counter)
        defaults: dict[str, Any] = {
            "zoom_id": f"uuid{n}==",
            "rtms_stream_id": f"stream-{n}",
            "topic": f"Meeting {n}",
        }
        defaults.update(fields)
        return Meeting.objects.create(**defaults)

    return make


@pytest.fixture
def database_outage(transactional_db: None) -> Iterator[DatabaseOutage]:
    """An outage to begin and end; the database is let in again whatever the test did."""
    outage = DatabaseOutage()
    yield outage
    if outage.began_at is not None:
        if outage.on:
            outage.end()
        # This thread's connection was cut too: pytest-django flushes the database through it.
        connections.close_all()
