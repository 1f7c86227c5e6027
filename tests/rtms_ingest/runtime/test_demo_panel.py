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


def _preview_panel(client: Client, view_as: str) -> str:
    """The panel the preview opens `as` someone, after the Home URL as the page asks it."""
    page = client.get(f"/demo/panel/?as={view_as}")
    assert page.status_code == 200
    home = client.get("/zoomapp/home", HTTP_X_ZOOM_APP_CONTEXT=_token(page.content.decode()))
    assert home["Location"] == "/zoomapp/panel"
    return client.get("/zoomapp/panel").content.decode()


@override_settings(DEMO_SIMULATOR=True)
def test_staff_preview_opens_the_panel_of_the_newest_meeting(
    admin_user: User, make_meeting: Callable[..., Meeting]
) -> None:
    meeting = make_meeting(state=Meeting.State.LIVE)
    client = Client()
    client.force_login(admin_user)
    panel = _preview_panel(client, "participant")
    assert f'data-meeting-id="{meeting.pk}"' in panel
    assert 'data-role="rtms-controls"' not in panel
    assert 'data-role="transcription-choice"' not in panel


@override_settings(DEMO_SIMULATOR=True)
def test_preview_offers_the_participant_and_the_host_view(
    admin_user: User, make_meeting: Callable[..., Meeting]
) -> None:
    make_meeting(state=Meeting.State.LIVE)
    client = Client()
    client.force_login(admin_user)
    page = client.get("/demo/panel/").content.decode()
    assert 'href="?as=participant"' in page
    assert 'href="?as=host"' in page
    assert "data-context" not in page  # nothing opens before a choice


@override_settings(DEMO_SIMULATOR=True)
def test_host_preview_shows_the_host_controls(
    admin_user: User, make_meeting: Callable[..., Meeting]
) -> None:
    make_meeting(state=Meeting.State.LIVE, operator_id="zoom-host-1")
    client = Client()
    client.force_login(admin_user)
    panel = _preview_panel(client, "host")
    assert 'data-role="rtms-controls"' in panel
    assert 'data-role="transcription-choice"' in panel
    assert "/static/js/transcription-choice.js" in panel


@override_settings(DEMO_SIMULATOR=True)
def test_preview_is_for_staff_only(coworker: User, make_meeting: Callable[..., Meeting]) -> None:
    make_meeting(owner=coworker, state=Meeting.State.LIVE)
    client = Client()
    client.force_login(coworker)
    for view_as in ("", "?as=participant", "?as=host"):
        assert client.get(f"/demo/panel/{view_as}").status_code == 403


@override_settings(DEMO_SIMULATOR=False)
def test_preview_exists_only_in_the_demo(admin_user: User) -> None:
    client = Client()
    client.force_login(admin_user)
    assert client.get("/demo/panel/?as=host").status_code == 403
