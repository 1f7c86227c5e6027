"""The demo's panel preview: a context made as Zoom makes one opens the panel of the meeting."""

from __future__ import annotations

import html
import re
from collections.abc import Callable

from django.contrib.auth.models import User
from django.test import Client, override_settings

from assistant.models import Meeting


def _token(page: str) -> str:
    found = re.search(r'data-context="([^"]+)"', page)
    assert found is not None
    return html.unescape(found[1])


@override_settings(DEMO_SIMULATOR=True)
def test_staff_preview_opens_the_panel_of_the_newest_meeting(
    admin_user: User, make_meeting: Callable[..., Meeting]
) -> None:
    meeting = make_meeting(state=Meeting.State.LIVE)
    client = Client()
    client.force_login(admin_user)
    page = client.get("/demo/panel/")
    assert page.status_code == 200
    home = client.get("/zoomapp/home", HTTP_X_ZOOM_APP_CONTEXT=_token(page.content.decode()))
    assert home["Location"] == "/zoomapp/panel"
    assert f'data-meeting-id="{meeting.pk}"' in client.get("/zoomapp/panel").content.decode()


@override_settings(DEMO_SIMULATOR=True)
def test_preview_is_for_staff_only(coworker: User) -> None:
    client = Client()
    client.force_login(coworker)
    assert client.get("/demo/panel/").status_code == 403


@override_settings(DEMO_SIMULATOR=False)
def test_preview_exists_only_in_the_demo(admin_user: User) -> None:
    client = Client()
    client.force_login(admin_user)
    assert client.get("/demo/panel/").status_code == 403
