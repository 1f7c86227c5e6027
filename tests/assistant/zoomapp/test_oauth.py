"""Zoom sign-in against a local stand-in for Zoom's OAuth and REST servers."""

from __future__ import annotations

import json
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
from cryptography.fernet import Fernet
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client, override_settings

from assistant.models import ZoomToken, ZoomUserLink
from assistant.services import zoom_accounts
from assistant.zoomapp import client as zoom_client
from assistant.zoomapp import sealing
from assistant.zoomapp.client import ZoomError
from tests.assistant.zoomapp.zoom_stand_in import RunningStandIn, ZoomStandIn

ZOOM_USER = {
    "id": "zoom-user-42",
    "account_id": "acct-secret-7",
    "first_name": "Priya",
    "last_name": "Raman",
}
CALLBACK = "/zoomapp/oauth/callback"


@pytest.fixture
def zoom() -> Iterator[ZoomStandIn]:
    stand_in = ZoomStandIn(settings.ZOOM_CLIENT_ID, settings.ZOOM_CLIENT_SECRET, dict(ZOOM_USER))
    with (
        RunningStandIn(stand_in) as running,
        override_settings(
            ZOOM_OAUTH_BASE_URL=running.base_url,
            ZOOM_API_BASE_URL=f"{running.base_url}/v2",
            ZOOM_OAUTH_REDIRECT_URL="https://notes.example.com/zoomapp/oauth/callback",
        ),
    ):
        yield stand_in


def _start_install(client: Client) -> dict[str, str]:
    response = client.get("/zoomapp/install")
    assert response.status_code == 302
    location = urlsplit(response["Location"])
    assert location.path == "/oauth/authorize"
    return {k: v[0] for k, v in parse_qs(location.query).items()}


def _consent(zoom: ZoomStandIn, query: dict[str, str]) -> str:
    return zoom.issue_code(query["code_challenge"], query["redirect_uri"])


def test_web_install_links_a_new_site_user_and_signs_in(zoom: ZoomStandIn, db: None) -> None:
    client = Client()
    query = _start_install(client)
    assert query["code_challenge_method"] == "S256"
    assert query["client_id"] == settings.ZOOM_CLIENT_ID
    response = client.get(CALLBACK, {"code": _consent(zoom, query), "state": query["state"]})
    assert response.status_code == 302
    assert response["Location"] == "/"
    link = ZoomUserLink.objects.get(zoom_user_id="zoom-user-42")
    assert client.get("/").context["user"] == link.user


def test_tokens_and_account_id_are_sealed_at_rest(zoom: ZoomStandIn, db: None) -> None:
    client = Client()
    query = _start_install(client)
    client.get(CALLBACK, {"code": _consent(zoom, query), "state": query["state"]})
    row = ZoomToken.objects.get()
    stored = f"{row.access_token_sealed}{row.refresh_token_sealed}{row.account_id_sealed}"
    assert "access-" not in stored and "refresh-" not in stored and "acct-secret" not in stored
    assert zoom_accounts.account_id_of(row.user_id) == "acct-secret-7"
    assert zoom_accounts.access_token_for(row.user_id) in zoom.access_tokens


def test_second_install_keeps_the_same_site_user(zoom: ZoomStandIn, db: None) -> None:
    for _ in range(2):
        client = Client()
        query = _start_install(client)
        client.get(CALLBACK, {"code": _consent(zoom, query), "state": query["state"]})
    assert User.objects.filter(zoom_link__zoom_user_id="zoom-user-42").count() == 1
    assert ZoomToken.objects.count() == 1


def test_signed_in_user_without_a_link_gets_linked(zoom: ZoomStandIn, coworker: User) -> None:
    client = Client()
    client.force_login(coworker)
    query = _start_install(client)
    client.get(CALLBACK, {"code": _consent(zoom, query), "state": query["state"]})
    assert ZoomUserLink.objects.get(zoom_user_id="zoom-user-42").user == coworker


def test_callback_without_state_is_refused(zoom: ZoomStandIn, db: None) -> None:
    client = Client()
    query = _start_install(client)
    response = client.get(CALLBACK, {"code": _consent(zoom, query)})
    assert response.status_code == 403
    assert not ZoomToken.objects.exists()


def test_state_is_single_use(zoom: ZoomStandIn, db: None) -> None:
    client = Client()
    query = _start_install(client)
    client.get(CALLBACK, {"code": _consent(zoom, query), "state": query["state"]})
    again = client.get(CALLBACK, {"code": _consent(zoom, query), "state": query["state"]})
    assert again.status_code == 403


def test_state_is_bound_to_the_session_that_started(zoom: ZoomStandIn, db: None) -> None:
    query = _start_install(Client())
    attacker = Client()
    _start_install(attacker)
    response = attacker.get(CALLBACK, {"code": _consent(zoom, query), "state": query["state"]})
    assert response.status_code == 403


def test_state_expires(zoom: ZoomStandIn, db: None) -> None:
    client = Client()
    query = _start_install(client)
    with override_settings(ZOOM_OAUTH_STATE_TTL_S=-1):
        response = client.get(CALLBACK, {"code": _consent(zoom, query), "state": query["state"]})
    assert response.status_code == 403


def test_a_code_zoom_rejects_is_a_clear_failure(zoom: ZoomStandIn, db: None) -> None:
    client = Client()
    query = _start_install(client)
    response = client.get(CALLBACK, {"code": "made-up", "state": query["state"]})
    assert response.status_code == 502
    assert not ZoomToken.objects.exists()


def test_in_client_authorize_with_pkce(zoom: ZoomStandIn, db: None) -> None:
    client = Client()
    started = client.post("/zoomapp/authorize").json()
    code = zoom.issue_code(started["codeChallenge"], settings.ZOOM_OAUTH_REDIRECT_URL)
    body = {
        "code": code,
        "state": started["state"],
        "redirectUri": settings.ZOOM_OAUTH_REDIRECT_URL,
    }
    response = client.post("/zoomapp/authorized", json.dumps(body), content_type="application/json")
    assert response.status_code == 200
    assert ZoomUserLink.objects.filter(zoom_user_id="zoom-user-42").exists()


def test_in_client_authorize_refuses_a_foreign_redirect_uri(zoom: ZoomStandIn, db: None) -> None:
    client = Client()
    started = client.post("/zoomapp/authorize").json()
    code = zoom.issue_code(started["codeChallenge"], "https://evil.example/cb")
    body = {"code": code, "state": started["state"], "redirectUri": "https://evil.example/cb"}
    response = client.post("/zoomapp/authorized", json.dumps(body), content_type="application/json")
    assert response.status_code == 400


def test_in_client_authorize_is_csrf_checked(zoom: ZoomStandIn, db: None) -> None:
    response = Client(enforce_csrf_checks=True).post("/zoomapp/authorize")
    assert response.status_code == 403


def _installed(zoom: ZoomStandIn) -> int:
    client = Client()
    query = _start_install(client)
    client.get(CALLBACK, {"code": _consent(zoom, query), "state": query["state"]})
    return ZoomToken.objects.get().user_id


def test_token_is_refreshed_ahead_of_expiry_and_refresh_rotates(
    zoom: ZoomStandIn, db: None
) -> None:
    zoom.expires_in = 60  # inside the 300 s margin: due for a refresh at once
    user_id = _installed(zoom)
    first_refresh = sealing.unseal(ZoomToken.objects.get().refresh_token_sealed)
    token = zoom_accounts.access_token_for(user_id)
    assert token == "access-3"  # code-1, tokens 2, refreshed tokens 3
    assert first_refresh not in zoom.refresh_tokens  # spent: Zoom would refuse it now
    assert sealing.unseal(ZoomToken.objects.get().refresh_token_sealed) in zoom.refresh_tokens


def test_fresh_token_is_not_refreshed(zoom: ZoomStandIn, db: None) -> None:
    user_id = _installed(zoom)
    calls = zoom.token_calls
    zoom_accounts.access_token_for(user_id)
    assert zoom.token_calls == calls


def test_transient_zoom_errors_are_retried(zoom: ZoomStandIn, db: None) -> None:
    zoom.fail_next(503)
    user_id = _installed(zoom)
    assert zoom.failures == []  # the 503 was served, then the retry succeeded
    assert ZoomToken.objects.filter(user_id=user_id).exists()


def test_a_zoom_outage_ends_in_a_clear_error(zoom: ZoomStandIn, db: None) -> None:
    zoom.fail_next(503, times=zoom_client.ATTEMPTS)
    with pytest.raises(ZoomError) as caught:
        zoom_client.refresh("whatever")
    assert caught.value.status == 503


def test_client_errors_are_not_retried(zoom: ZoomStandIn, db: None) -> None:
    calls = zoom.token_calls
    with pytest.raises(ZoomError) as caught:
        zoom_client.refresh("never-issued")
    assert caught.value.status == 400
    assert "Invalid Token" in str(caught.value)
    assert zoom.token_calls == calls + 1


def test_rtms_can_be_started_from_the_backend(zoom: ZoomStandIn, db: None) -> None:
    user_id = _installed(zoom)
    zoom_client.set_rtms_status(zoom_accounts.access_token_for(user_id), "/ab//c==", "start")
    path, body = zoom.rtms_calls[0]
    assert path == "/v2/live_meetings/%252Fab%252F%252Fc%253D%253D/rtms_app/status"
    assert body == {"action": "start", "settings": {"client_id": settings.ZOOM_CLIENT_ID}}


def test_keys_rotate_without_losing_tokens(zoom: ZoomStandIn, db: None) -> None:
    user_id = _installed(zoom)
    old_keys = list(settings.ZOOM_TOKEN_KEYS)
    new_key = Fernet.generate_key().decode()
    with override_settings(ZOOM_TOKEN_KEYS=[new_key, *old_keys]):
        assert zoom_accounts.reseal_all() == 1
    with override_settings(ZOOM_TOKEN_KEYS=[new_key]):
        assert zoom_accounts.account_id_of(user_id) == "acct-secret-7"
    with override_settings(ZOOM_TOKEN_KEYS=old_keys), pytest.raises(sealing.SealError):
        zoom_accounts.account_id_of(user_id)
