"""The Home URL, the page's context hand-in and the panel, and the headers Zoom insists on."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.test import Client, override_settings

from assistant.models import Meeting
from tests.assistant.zoomapp.contexts import HOME, make_context, panel_client, with_nonce_length

MakeMeeting = Callable[..., Meeting]
PANEL = "/zoomapp/panel"
CONTEXT_URL = "/zoomapp/context"


@pytest.fixture
def meeting(make_meeting: MakeMeeting, host: User) -> Meeting:
    return make_meeting(owner=host, state=Meeting.State.LIVE, zoom_id="mEeTiNg+uuid/1==")


def test_home_with_a_valid_context_opens_the_panel_of_that_meeting(meeting: Meeting) -> None:
    client = Client()
    response = client.get(HOME, HTTP_X_ZOOM_APP_CONTEXT=make_context())
    assert response.status_code == 302
    assert response["Location"] == PANEL
    page = client.get(PANEL)
    assert page.status_code == 200
    html = page.content.decode()
    assert f'data-meeting-id="{meeting.pk}"' in html
    assert f'data-socket-path="/ws/meetings/{meeting.pk}/"' in html
    assert "/static/js/live-meeting.js" in html


def test_home_binds_the_session_under_a_new_key(meeting: Meeting) -> None:
    client = Client()
    client.get(HOME)
    before = client.cookies["sessionid"].value if "sessionid" in client.cookies else None
    client.get(HOME, HTTP_X_ZOOM_APP_CONTEXT=make_context())
    assert client.cookies["sessionid"].value != before


def test_home_ignores_the_query_string(meeting: Meeting, make_meeting: MakeMeeting) -> None:
    other = make_meeting(state=Meeting.State.LIVE, zoom_id="other==")
    client = Client()
    response = client.get(
        f"{HOME}?meetingUUID={other.zoom_id}&accountId=x", HTTP_X_ZOOM_APP_CONTEXT=make_context()
    )
    assert response.status_code == 302
    html = client.get(PANEL).content.decode()
    assert f'data-meeting-id="{meeting.pk}"' in html
    assert f'data-meeting-id="{other.pk}"' not in html


def test_home_without_a_header_asks_the_sdk_and_opens_no_session(meeting: Meeting) -> None:
    client = Client()
    response = client.get(f"{HOME}?meetingUUID={meeting.zoom_id}")
    assert response.status_code == 200
    assert 'data-mode="open"' in response.content.decode()
    assert client.get(PANEL).status_code == 403


@pytest.mark.parametrize(
    "token",
    [
        make_context(secret="wrong-secret"),
        make_context(aud="another-app"),
        "x" * 5000,
        "garbage!",
        with_nonce_length(make_context(), 4),
    ],
    ids=["wrong-secret", "wrong-aud", "oversized", "garbage", "short-nonce"],
)
def test_home_refuses_a_bad_context_with_403(meeting: Meeting, token: str) -> None:
    client = Client()
    response = client.get(HOME, HTTP_X_ZOOM_APP_CONTEXT=token)
    assert response.status_code == 403
    assert client.get(PANEL).status_code == 403


def test_a_replayed_header_is_refused(meeting: Meeting) -> None:
    token = make_context()
    assert Client().get(HOME, HTTP_X_ZOOM_APP_CONTEXT=token).status_code == 302
    assert Client().get(HOME, HTTP_X_ZOOM_APP_CONTEXT=token).status_code == 403


def test_context_outside_a_meeting_opens_no_session(db: None) -> None:
    client = Client()
    response = client.get(HOME, HTTP_X_ZOOM_APP_CONTEXT=make_context(typ="panel", mid=None))
    assert response.status_code == 200
    assert "Open this app in a meeting" in response.content.decode()
    assert client.get(PANEL).status_code == 403


def _csrf_client() -> tuple[Client, str]:
    client = Client(enforce_csrf_checks=True)
    client.get(HOME)  # the open page sets the CSRF cookie
    return client, client.cookies["csrftoken"].value


def test_posted_app_context_opens_the_panel(meeting: Meeting) -> None:
    client, token = _csrf_client()
    response = client.post(
        CONTEXT_URL,
        json.dumps({"context": make_context()}),
        content_type="application/json",
        HTTP_X_CSRFTOKEN=token,
    )
    assert response.status_code == 200
    assert response.json() == {"panel": PANEL}
    assert f'data-meeting-id="{meeting.pk}"' in client.get(PANEL).content.decode()


def test_posted_context_without_the_csrf_token_is_refused(meeting: Meeting) -> None:
    client, _ = _csrf_client()
    body = json.dumps({"context": make_context()})
    response = client.post(CONTEXT_URL, body, content_type="application/json")
    assert response.status_code == 403
    assert client.get(PANEL).status_code == 403


@pytest.mark.parametrize(
    "context",
    [make_context(iss="evil.example"), with_nonce_length(make_context(), 200)],
    ids=["wrong-issuer", "long-nonce"],
)
def test_posted_bad_context_is_refused(meeting: Meeting, context: str) -> None:
    client, token = _csrf_client()
    response = client.post(
        CONTEXT_URL,
        json.dumps({"context": context}),
        content_type="application/json",
        HTTP_X_CSRFTOKEN=token,
    )
    assert response.status_code == 403


def test_panel_before_the_stream_exists_waits(db: None) -> None:
    client = panel_client(mid="not-started-yet==")
    html = client.get(PANEL).content.decode()
    assert 'data-role="waiting"' in html
    assert client.get("/zoomapp/panel/meeting").json() == {"meeting": None, "refused": ""}


def test_host_sees_rtms_controls_and_participant_does_not(meeting: Meeting) -> None:
    host_html = panel_client(attendrole="host").get(PANEL).content.decode()
    participant_html = panel_client(attendrole="participant").get(PANEL).content.decode()
    assert 'data-role="rtms-controls"' in host_html
    assert 'data-role="rtms-controls"' not in participant_html


def test_panel_never_lets_a_panel_user_edit_notes(meeting: Meeting) -> None:
    html = panel_client(attendrole="host").get(PANEL).content.decode()
    assert 'data-can-edit="false"' in html


# --- Headers: every HTML response, errors and redirects included ------------------------------

HTML_URLS = [
    "/",
    "/login/",
    "/meetings/999999/",
    "/no-such-page/",
    HOME,
    PANEL,
    "/zoomapp/home?x=1",
]


def _assert_zoom_headers(response: object) -> None:
    headers = response  # a Django test response behaves as a header mapping
    assert headers["Strict-Transport-Security"].startswith("max-age=")  # type: ignore[index]
    assert headers["X-Content-Type-Options"] == "nosniff"  # type: ignore[index]
    assert headers["Referrer-Policy"] == "same-origin"  # type: ignore[index]
    policy = headers["Content-Security-Policy"]  # type: ignore[index]
    assert "unsafe-inline" not in policy
    assert re.search(r"script-src 'self' 'nonce-[\w-]+'", policy)


@override_settings(SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https"))
@pytest.mark.parametrize("path", HTML_URLS)
def test_every_html_url_carries_zoom_headers_behind_a_tls_proxy(
    path: str, meeting: Meeting
) -> None:
    client = panel_client()
    response = client.get(path, HTTP_X_FORWARDED_PROTO="https")
    _assert_zoom_headers(response)


@override_settings(SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https"))
@pytest.mark.parametrize("token", [make_context(secret="wrong"), None], ids=["refused", "redirect"])
def test_home_error_and_redirect_carry_zoom_headers(meeting: Meeting, token: str | None) -> None:
    response = Client().get(
        HOME,
        HTTP_X_FORWARDED_PROTO="https",
        HTTP_X_ZOOM_APP_CONTEXT=token or make_context(),
    )
    assert response.status_code == (403 if token else 302)
    _assert_zoom_headers(response)


def test_each_response_gets_its_own_nonce(meeting: Meeting) -> None:
    client = panel_client()
    first = client.get(PANEL)["Content-Security-Policy"]
    second = client.get(PANEL)["Content-Security-Policy"]
    assert first != second


def test_panel_may_be_framed_by_zoom_and_the_dashboard_only_by_itself(
    meeting: Meeting, host: User
) -> None:
    panel = panel_client().get(PANEL)
    assert "frame-ancestors 'self' https://*.zoom.us" in panel["Content-Security-Policy"]
    assert "X-Frame-Options" not in panel
    dashboard = Client()
    dashboard.force_login(host)
    page = dashboard.get("/")
    assert "frame-ancestors 'self'" in page["Content-Security-Policy"]
    assert "zoom.us" not in page["Content-Security-Policy"]
    assert page["X-Frame-Options"] == "SAMEORIGIN"


def test_panel_scripts_carry_the_response_nonce(meeting: Meeting) -> None:
    response = panel_client(attendrole="host").get(PANEL)
    nonce = re.search(r"'nonce-([\w-]+)'", response["Content-Security-Policy"])
    assert nonce is not None
    html = response.content.decode()
    for tag in re.findall(r"<script[^>]*>", html):
        assert 'type="application/json"' in tag or f'nonce="{nonce[1]}"' in tag
    assert "<style" not in html and " style=" not in html
