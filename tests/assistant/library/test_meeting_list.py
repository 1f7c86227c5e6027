"""The meetings list's filters: dates, host, status, open action items, text; kept on paging."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from assistant.models import ActionItem, Meeting
from tests.assistant.library.conftest import MakeFinished


def _listed(user: User, **params: str) -> list[str]:
    client = Client()
    client.force_login(user)
    response = client.get("/", params)
    assert response.status_code == 200
    return re.findall(r'<span class="meeting-title">([^<]*)</span>', response.content.decode())


def _day(days_ago: int) -> dt.datetime:
    return timezone.now() - dt.timedelta(days=days_ago)


def test_filters_narrow_the_list_one_by_one(
    make_finished: MakeFinished,
    make_meeting: Callable[..., Meeting],
    host: User,
    admin_user: User,
    outsider: User,
) -> None:
    old = make_finished(host, topic="Old planning", started_at=_day(40))
    recent = make_finished(host, topic="Recent retro", started_at=_day(2))
    theirs = make_finished(outsider, topic="Their sync", started_at=_day(3))
    make_meeting(owner=host, topic="Live now", state=Meeting.State.LIVE, started_at=_day(0))
    ActionItem.objects.filter(meeting=old).update(done=True)

    since = _day(10).date().isoformat()
    assert set(_listed(host, date_from=since)) == {"Recent retro", "Live now"}
    assert _listed(host, date_to=_day(30).date().isoformat()) == ["Old planning"]
    assert _listed(host, status="live") == ["Live now"]
    assert set(_listed(host, status="ended")) == {"Old planning", "Recent retro"}
    assert _listed(host, open_items="on") == ["Recent retro"]
    assert set(_listed(admin_user, host=str(outsider.pk))) == {theirs.topic}
    assert _listed(host, host=str(outsider.pk)) == []  # never more than the user may see
    assert _listed(host, q="retro") == [recent.topic]  # the topic
    assert set(_listed(host, q="rollback")) == {"Old planning", "Recent retro"}  # words said


def test_a_filter_that_is_not_understood_is_left_out_not_an_error(
    make_finished: MakeFinished, host: User
) -> None:
    make_finished(host, topic="Kept")
    assert _listed(host, date_from="yesterday-ish", status="sideways") == ["Kept"]


def test_paging_keeps_the_filters(make_meeting: Callable[..., Meeting], host: User) -> None:
    for n in range(55):
        make_meeting(owner=host, topic=f"Ended {n}", state=Meeting.State.ENDED)
    client = Client()
    client.force_login(host)
    html = client.get("/", {"status": "ended"}).content.decode()
    assert 'href="?page=2&amp;status=ended"' in html
