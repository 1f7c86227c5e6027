"""A finished meeting to share (the library's: transcript, notes, chat), clients and links."""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from assistant.models import Meeting, MeetingNotes
from tests.assistant.library import conftest as library
from tests.assistant.library.conftest import MakeFinished

# The library's finished-meeting fixtures, offered to these tests too.
add_segments = library.add_segments
make_finished = library.make_finished

_addresses = itertools.count(1)


def fresh_address() -> str:
    """A client address of its own: openings are rate limited per address, across tests."""
    n = next(_addresses)
    return f"198.51.{n // 250}.{n % 250 + 1}"


def signed_in(user: User | None = None, *, csrf: bool = False) -> Client:
    """A browser of `user` (signed out when None); `csrf`: the token is checked as in real use."""
    client = Client(enforce_csrf_checks=csrf)
    if user is not None:
        client.force_login(user)
    return client


def reader() -> Client:
    """A browser with no session, from an address of its own."""
    return Client(REMOTE_ADDR=fresh_address())


def create(client: Client, meeting: Meeting, days: Any = 7) -> Any:
    """POST a new link of `meeting` lasting `days`."""
    return client.post(
        f"/api/meetings/{meeting.pk}/share-links/",
        json.dumps({"expires_in_days": days}),
        content_type="application/json",
    )


def listing(client: Client, meeting: Meeting) -> Any:
    """GET the meeting's links."""
    return client.get(f"/api/meetings/{meeting.pk}/share-links/")


def revoke(client: Client, link_id: int) -> Any:
    """DELETE (revoke) a link."""
    return client.delete(f"/api/share-links/{link_id}/")


def shared_path(url: str) -> str:
    """The path of a link's URL (the test client speaks paths)."""
    return url[url.index("/shared/") :]


@pytest.fixture
def finished(make_finished: MakeFinished, host: User) -> Meeting:
    """The host's ended stand-up, with notes (as a notes update stores them), chat, people."""
    meeting = make_finished(host, topic="Release stand-up")
    MeetingNotes.objects.filter(meeting=meeting).update(version=1, is_final=True)
    return meeting


@pytest.fixture
def shared_url(finished: Meeting, host: User) -> str:
    """A fresh 7-day link of that meeting, made by its host through the page's endpoint."""
    response = create(signed_in(host), finished)
    assert response.status_code == 201, response.content
    url: str = response.json()["url"]
    return url
