"""Personas and factories shared by the whole suite."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser

from assistant.models import Meeting, ZoomUserLink

User = get_user_model()
_counter = itertools.count(1)


def _user(username: str, **extra: Any) -> AbstractUser:
    return User.objects.create_user(username=username, password="correct horse 9", **extra)


@pytest.fixture
def host(db: None) -> AbstractUser:
    """A host who owns meetings started from their Zoom account."""
    user = _user("host")
    ZoomUserLink.objects.create(user=user, zoom_user_id="zoom-host-1")
    return user


@pytest.fixture
def coworker(db: None) -> AbstractUser:
    """A signed-in user of the same site who does not own the host's meetings."""
    return _user("coworker")


@pytest.fixture
def outsider(db: None) -> AbstractUser:
    """Another signed-in user with no relation to anything."""
    return _user("outsider")


@pytest.fixture
def admin_user(db: None) -> AbstractUser:
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
