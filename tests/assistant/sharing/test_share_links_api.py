"""The host's share links through the finished page's endpoints: make, list, revoke; who may.

Same rule as the notes API: the host (owner or linked operator) and staff may; a panel viewer
who sees the meeting but does not host it gets 403; anyone else 404; signed out 401; writes
without the CSRF token are refused.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone
from pytest_django.fixtures import Settings

from assistant.models import Meeting, ShareLink
from assistant.services import share_links
from tests.assistant.sharing.conftest import (
    create,
    listing,
    reader,
    revoke,
    shared_path,
    signed_in,
)
from tests.assistant.zoomapp.contexts import panel_client

pytestmark = pytest.mark.django_db

Request = Callable[[Client], Any]


def test_the_host_makes_a_link_whose_url_is_given_once(finished: Meeting, host: User) -> None:
    before = timezone.now()
    response = create(signed_in(host), finished, 7)
    assert response.status_code == 201
    body = response.json()
    token = re.fullmatch(r"http://testserver/shared/([A-Za-z0-9_-]+)/", body["url"])
    assert token is not None and len(token.group(1)) >= 43  # 32 random bytes, base64url
    link = ShareLink.objects.get(pk=body["link"]["id"])
    assert link.meeting_id == finished.pk and link.created_by == host
    expected = before + dt.timedelta(days=7)
    assert abs((link.expires_at - expected).total_seconds()) < 60
    listed = listing(signed_in(host), finished).json()
    assert [row["id"] for row in listed["links"]] == [link.pk]
    assert token.group(1) not in str(listed)  # the list never shows the token again
    assert listed["links"][0]["created_by"] == "host"
    assert listed["links"][0]["open_count"] == 0


def test_each_link_has_its_own_token(finished: Meeting, host: User) -> None:
    urls = {create(signed_in(host), finished).json()["url"] for _ in range(3)}
    assert len(urls) == 3


def test_the_page_offers_expiries_within_the_cap(
    finished: Meeting, host: User, settings: Settings
) -> None:
    assert listing(signed_in(host), finished).json()["expiry_days"] == [1, 7, 30]
    assert listing(signed_in(host), finished).json()["default_days"] == 7
    settings.SHARE_LINK_MAX_DAYS = 14
    offered = listing(signed_in(host), finished).json()
    assert offered["expiry_days"] == [1, 7, 14]
    assert create(signed_in(host), finished, 14).status_code == 201
    refused = create(signed_in(host), finished, 15)
    assert refused.status_code == 400
    assert "14 days" in refused.json()["error"]


@pytest.mark.parametrize("days", [0, -1, 31, "7", 7.5, True, None, [7]])
def test_an_expiry_that_is_not_a_day_count_within_the_cap_is_a_400(
    finished: Meeting, host: User, days: Any
) -> None:
    response = create(signed_in(host), finished, days)
    assert response.status_code == 400
    assert response.json()["error"]
    assert not ShareLink.objects.exists()


def test_a_live_meeting_is_not_shared(make_meeting: Callable[..., Meeting], host: User) -> None:
    live = make_meeting(owner=host, state=Meeting.State.LIVE)
    response = create(signed_in(host), live)
    assert response.status_code == 400
    assert "ended" in response.json()["error"]
    assert listing(signed_in(host), live).json()["shareable"] is False
    assert not ShareLink.objects.exists()


def test_links_at_once_are_bounded(
    finished: Meeting, host: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(share_links, "MAX_ACTIVE_LINKS", 2)
    client = signed_in(host)
    assert [create(client, finished).status_code for _ in range(3)] == [201, 201, 400]
    first = listing(client, finished).json()["links"][0]["id"]
    assert revoke(client, first).status_code == 204
    assert create(client, finished).status_code == 201


def test_revoking_takes_effect_at_once(finished: Meeting, host: User, shared_url: str) -> None:
    page = reader()
    assert page.get(shared_path(shared_url)).status_code == 200
    link = ShareLink.objects.get()
    assert revoke(signed_in(host), link.pk).status_code == 204
    assert page.get(shared_path(shared_url)).status_code == 410
    assert listing(signed_in(host), finished).json()["links"] == []
    link.refresh_from_db()
    assert link.revoked_by == host and link.revoked_at is not None
    assert revoke(signed_in(host), link.pk).status_code == 204  # again: nothing changes


def test_the_list_shows_each_links_openings(finished: Meeting, host: User, shared_url: str) -> None:
    Client(REMOTE_ADDR="203.0.113.9", HTTP_USER_AGENT="Reader/1.0").get(shared_path(shared_url))
    row = listing(signed_in(host), finished).json()["links"][0]
    assert row["open_count"] == 1 and row["last_opened_label"]
    assert [(o["address"], o["user_agent"]) for o in row["openings"]] == [
        ("203.0.113.9", "Reader/1.0")
    ]


def test_staff_share_and_revoke_any_meeting(finished: Meeting, admin_user: User) -> None:
    staff = signed_in(admin_user)
    made = create(staff, finished)
    assert made.status_code == 201
    assert listing(staff, finished).status_code == 200
    assert revoke(staff, made.json()["link"]["id"]).status_code == 204


def _requests(meeting: Meeting, link: ShareLink) -> list[Request]:
    return [
        lambda c: listing(c, meeting),
        lambda c: create(c, meeting),
        lambda c: revoke(c, link.pk),
    ]


def _link(meeting: Meeting, host: User) -> ShareLink:
    made = share_links.create_link(meeting, 7, host)
    return made.link


def test_a_panel_viewer_who_may_see_but_not_host_gets_403(
    finished: Meeting, host: User, coworker: User
) -> None:
    link = _link(finished, host)
    client = panel_client(mid=finished.zoom_id, uid="zoom-part-1")
    client.force_login(coworker)
    assert client.get(f"/api/meetings/{finished.pk}/notes/").status_code == 200  # sees it
    for request in _requests(finished, link):
        response = request(client)
        assert response.status_code == 403, response.content
        assert "host" in response.json()["error"]
    assert ShareLink.objects.filter(revoked_at__isnull=True).count() == 1


def test_others_get_404_and_the_signed_out_401(
    finished: Meeting, host: User, outsider: User
) -> None:
    link = _link(finished, host)
    for request in _requests(finished, link):
        assert request(signed_in(outsider)).status_code == 404
        assert request(signed_in()).status_code == 401
    assert ShareLink.objects.filter(revoked_at__isnull=True).count() == 1
    assert create(signed_in(host), Meeting(pk=finished.pk + 1000)).status_code == 404
    assert revoke(signed_in(host), link.pk + 1000).status_code == 404


def test_writes_without_the_csrf_token_are_refused(finished: Meeting, host: User) -> None:
    link = _link(finished, host)
    client = signed_in(host, csrf=True)
    assert create(client, finished).status_code == 403
    assert revoke(client, link.pk).status_code == 403
    assert ShareLink.objects.count() == 1
    assert ShareLink.objects.get().revoked_at is None
    assert listing(client, finished).status_code == 200  # reading needs no token


def test_a_new_host_sees_and_revokes_the_links_the_previous_one_made(
    finished: Meeting, host: User, outsider: User, shared_url: str
) -> None:
    # The meeting changes hands: its links stay the meeting's, for whoever hosts it now.
    Meeting.objects.filter(pk=finished.pk).update(owner=outsider)
    assert listing(signed_in(host), finished).status_code == 404
    rows = listing(signed_in(outsider), finished).json()["links"]
    assert [row["created_by"] for row in rows] == ["host"]
    assert reader().get(shared_path(shared_url)).status_code == 200
    assert revoke(signed_in(host), rows[0]["id"]).status_code == 404
    assert revoke(signed_in(outsider), rows[0]["id"]).status_code == 204
    assert reader().get(shared_path(shared_url)).status_code == 410


def test_only_get_post_and_delete_are_answered(finished: Meeting, host: User) -> None:
    link = _link(finished, host)
    put = signed_in(host).put(f"/api/meetings/{finished.pk}/share-links/")
    assert put.status_code == 405 and put["Allow"] == "GET, POST"
    get = signed_in(host).get(f"/api/share-links/{link.pk}/")
    assert get.status_code == 405 and get["Allow"] == "DELETE"


def _control_shown(client: Client, meeting: Meeting) -> bool:
    page = client.get(f"/meetings/{meeting.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    return 'data-role="share-control"' in html and "js/share-links.js" in html


def test_the_share_control_is_on_the_finished_page_for_its_host_and_staff_only(
    finished: Meeting,
    host: User,
    admin_user: User,
    coworker: User,
    make_meeting: Callable[..., Meeting],
) -> None:
    assert _control_shown(signed_in(host), finished)
    assert _control_shown(signed_in(admin_user), finished)
    panel = panel_client(mid=finished.zoom_id, uid="zoom-part-1")
    panel.force_login(coworker)
    assert not _control_shown(panel, finished)
    live = make_meeting(owner=host, state=Meeting.State.LIVE)
    assert not _control_shown(signed_in(host), live)
