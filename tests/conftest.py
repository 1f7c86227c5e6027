"""Personas and factories shared by the whole suite."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User

from assistant.models import Meeting, ZoomUserLink

_counter = itertools.count(1)


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
