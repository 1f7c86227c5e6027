"""The demo's first minute: the sample meeting waits for the first page, the sign-in page says
where the password is, and the top bar offers the admin only to who can use it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client
from django.urls import reverse
from pytest_django.fixtures import Settings

from rtms_ingest.runtime import demo


@pytest.fixture
def playbacks(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The playbacks requested, recorded instead of scheduled; nothing armed at the start."""
    requested: list[str] = []

    def record() -> bool:
        requested.append("play")
        return True

    monkeypatch.setattr(demo, "_awaiting_first_page", False)
    monkeypatch.setattr(demo, "request_sample_playback", record)
    yield requested


def _signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_nothing_plays_before_the_first_page_then_it_plays_once(
    settings: Settings, admin_user: User, playbacks: list[str]
) -> None:
    settings.DEMO_SIMULATOR = True
    demo.play_on_first_page()
    client = _signed_in(admin_user)
    assert playbacks == []  # armed at startup, not played
    Client().get(reverse("meeting-list"))  # signed out: the sign-in page is not the first page
    assert playbacks == []
    first = client.get(reverse("meeting-list"))
    assert playbacks == ["play"]
    assert b"The sample meeting is starting" in first.content
    client.get(reverse("search"))
    assert playbacks == ["play"]  # once
    assert not demo.awaiting_first_page()


def test_pages_play_nothing_unless_run_demo_armed_the_playback(
    admin_user: User, playbacks: list[str]
) -> None:
    _signed_in(admin_user).get(reverse("meeting-list"))
    assert playbacks == []


def test_the_sign_in_page_says_where_the_demo_password_is(settings: Settings) -> None:
    settings.DEMO_SIMULATOR = True
    page = Client().get(reverse("login")).content.decode()
    assert "make demo" in page and str(demo.password_hint()) in page
    assert demo.password_hint().endswith("demo-password")


def test_the_sign_in_page_says_nothing_of_a_demo_in_production(settings: Settings) -> None:
    settings.DEMO_SIMULATOR = False
    page = Client().get(reverse("login")).content.decode()
    assert "demo-password" not in page and "make demo" not in page


def test_the_top_bar_offers_the_admin_only_to_staff_who_can_use_it(
    settings: Settings, django_user_model: type[User], admin_user: User
) -> None:
    settings.DEMO_SIMULATOR = True
    admin_link = f'href="{reverse("admin:index")}"'
    bare_staff = django_user_model.objects.create_user("demo", password="x", is_staff=True)
    assert admin_link not in _signed_in(bare_staff).get(reverse("meeting-list")).content.decode()
    # What the demo user needs (play, panel) is staff; the admin would be an empty page.
    assert _signed_in(bare_staff).get(reverse("admin:index")).status_code == 200
    editor = django_user_model.objects.create_user("editor", password="x", is_staff=True)
    editor.user_permissions.add(Permission.objects.get(codename="view_meeting"))
    assert admin_link in _signed_in(editor).get(reverse("meeting-list")).content.decode()
    assert admin_link in _signed_in(admin_user).get(reverse("meeting-list")).content.decode()
