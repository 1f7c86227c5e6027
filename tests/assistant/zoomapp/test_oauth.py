"""Zoom sign-in against a local stand-in for Zoom's OAuth and REST servers."""

from __future__ import annotations

import json
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client, override_settings

from assistant.models import ZoomGrant, ZoomUserLink
from assistant.services import sealing
from assistant.zoomapp import client as zoom_client
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


def _database_text() -> str:
    """Every row of every table of ours, as text: what a database dump would hold."""
    tables = [t for t in connection.introspection.table_names() if t.startswith("assistant_")]
    dump = []
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f'SELECT * FROM "{table}"')  # noqa: S608 (our own table names)
            dump.append(repr(cursor.fetchall()))
    return "\n".join(dump)


def test_tokens_are_kept_sealed_and_the_account_id_not_at_all(zoom: ZoomStandIn, db: None) -> None:
    """The tokens are kept for the RTMS controls, sealed: no token is readable in a dump."""
    client = Client()
    query = _start_install(client)
    client.get(CALLBACK, {"code": _consent(zoom, query), "state": query["state"]})
    link = ZoomUserLink.objects.get(zoom_user_id="zoom-user-42")
    grant = ZoomGrant.objects.get(user=link.user)
    assert sealing.unseal(grant.access_token_sealed) in zoom.access_tokens
    assert sealing.unseal(grant.refresh_token_sealed) in zoom.refresh_tokens
    stored = _database_text() + repr(list(client.session.items()))
    for token in zoom.access_tokens | zoom.refresh_tokens | {"acct-secret-7"}:
        assert token not in stored


def test_second_install_keeps_the_same_site_user(zoom: ZoomStandIn, db: None) -> None:
    for _ in range(2):
        client = Client()
        query = _start_install(client)
        client.get(CALLBACK, {"code": _consent(zoom, query), "state": query["state"]})
    assert User.objects.filter(zoom_link__zoom_user_id="zoom-user-42").count() == 1


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
    assert not ZoomUserLink.objects.exists()


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
    assert not ZoomUserLink.objects.exists()


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


def test_transient_zoom_errors_are_retried(zoom: ZoomStandIn, db: None) -> None:
    zoom.fail_next(503)
    client = Client()
    query = _start_install(client)
    response = client.get(CALLBACK, {"code": _consent(zoom, query), "state": query["state"]})
    assert response.status_code == 302
    assert zoom.failures == []  # the 503 was served, then the retry succeeded
    assert ZoomUserLink.objects.filter(zoom_user_id="zoom-user-42").exists()


def _exchange(code: str) -> zoom_client.TokenSet:
    return zoom_client.exchange_code(
        code=code, redirect_uri=settings.ZOOM_OAUTH_REDIRECT_URL, code_verifier="v" * 43
    )


def test_a_zoom_outage_ends_in_a_clear_error(zoom: ZoomStandIn, db: None) -> None:
    zoom.fail_next(503, times=zoom_client.ATTEMPTS)
    with pytest.raises(ZoomError) as caught:
        _exchange("whatever")
    assert caught.value.status == 503


def test_client_errors_are_not_retried(zoom: ZoomStandIn, db: None) -> None:
    calls = zoom.token_calls
    with pytest.raises(ZoomError) as caught:
        _exchange("never-issued")
    assert caught.value.status == 400
    assert zoom.token_calls == calls + 1
