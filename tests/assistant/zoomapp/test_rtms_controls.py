"""The host's RTMS controls: the dashboard's forms -> our service -> the simulator's Zoom REST API
over real HTTP, with the host's bearer token, refreshed once when Zoom says it expired."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client, override_settings
from pytest_django.fixtures import Settings

from assistant.models import Meeting, ZoomGrant
from assistant.services import deauthorization, sealing, zoom_grants
from assistant.zoomapp.client import TokenSet
from rtms_ingest.simulator import SimulatorConfig
from rtms_ingest.simulator.fixture import load_meeting
from rtms_ingest.simulator.live_meetings import LiveMeeting
from tests.assistant.zoomapp.contexts import panel_client
from tests.assistant.zoomapp.simulated_zoom import SimulatedZoom
from tests.rtms_ingest.simulator.fixtures import write_short_meeting

HOST_ZOOM_ID = "zoom-host-1"  # the `host` fixture's linked Zoom user


@pytest.fixture
def zoom(tmp_path: Path) -> Iterator[SimulatedZoom]:
    recording = load_meeting(write_short_meeting(tmp_path, duration_s=60.0))
    config = SimulatorConfig(
        settings.ZOOM_CLIENT_ID,
        settings.ZOOM_CLIENT_SECRET,
        settings.ZOOM_WEBHOOK_SECRET_TOKEN,
        connect_timeout_s=30.0,
    )
    with (
        SimulatedZoom(recording, config) as running,
        override_settings(ZOOM_OAUTH_BASE_URL=running.oauth_url, ZOOM_API_BASE_URL=running.api_url),
    ):
        yield running


@pytest.fixture
def live(zoom: SimulatedZoom) -> LiveMeeting:
    return zoom.open_meeting(HOST_ZOOM_ID)


def _sign_in_with_zoom(zoom: SimulatedZoom, user: User, zoom_user_id: str) -> dict[str, str]:
    """What a Zoom sign-in leaves: the user's tokens kept sealed. Returns them."""
    issued = zoom.call(lambda: zoom.simulator.tokens.issue(zoom_user_id))
    zoom_grants.store(user, zoom_user_id, TokenSet.from_json(issued))
    return issued


@pytest.fixture
def hosted(make_meeting: Callable[..., Meeting], live: LiveMeeting) -> Meeting:
    return make_meeting(
        operator_id=HOST_ZOOM_ID,
        zoom_id=live.meeting_uuid,
        meeting_number=live.meeting_number,
        state=Meeting.State.LIVE,
    )


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _messages(response: Any) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def _grants(zoom: SimulatedZoom) -> list[str]:
    return zoom.call(lambda: list(zoom.simulator.tokens.grants))


def test_host_starts_rtms_with_their_bearer_token_and_a_stream_is_offered(
    zoom: SimulatedZoom, live: LiveMeeting, hosted: Meeting, host: User
) -> None:
    _sign_in_with_zoom(zoom, host, HOST_ZOOM_ID)
    hosted.state = Meeting.State.ENDED
    hosted.save()
    response = _client(host).post(f"/meetings/{hosted.pk}/rtms/", {"action": "start"}, follow=True)
    assert response.status_code == 200
    assert any("Zoom is starting the stream" in m for m in _messages(response))
    assert zoom.call(lambda: (list(live.calls), live.rtms_running)) == (
        [("start", HOST_ZOOM_ID)],
        True,
    )


def test_start_before_the_meeting_by_its_typed_id(
    zoom: SimulatedZoom, live: LiveMeeting, host: User
) -> None:
    _sign_in_with_zoom(zoom, host, HOST_ZOOM_ID)
    number = str(live.meeting_number)
    typed = f"{number[:3]} {number[3:7]} {number[7:]}"
    response = _client(host).post("/meetings/rtms/start/", {"meeting_id": typed}, follow=True)
    assert any("Zoom is starting the stream" in m for m in _messages(response))
    assert zoom.call(lambda: list(live.calls)) == [("start", HOST_ZOOM_ID)]


def test_pause_resume_and_stop_reach_zoom_and_a_second_start_is_taken_as_started(
    zoom: SimulatedZoom, live: LiveMeeting, hosted: Meeting, host: User
) -> None:
    _sign_in_with_zoom(zoom, host, HOST_ZOOM_ID)
    client = _client(host)
    for action in ("start", "pause", "resume"):
        response = client.post(f"/meetings/{hosted.pk}/rtms/", {"action": action}, follow=True)
        assert response.status_code == 200
    again = client.post(f"/meetings/{hosted.pk}/rtms/", {"action": "start"}, follow=True)
    assert any("already running" in m for m in _messages(again))
    client.post(f"/meetings/{hosted.pk}/rtms/", {"action": "stop"})
    calls = zoom.call(lambda: [action for action, _ in live.calls])
    assert calls == ["start", "pause", "resume", "stop"]


def test_an_expired_access_token_is_refreshed_once_and_the_call_retried(
    zoom: SimulatedZoom,
    live: LiveMeeting,
    hosted: Meeting,
    host: User,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    issued = _sign_in_with_zoom(zoom, host, HOST_ZOOM_ID)
    zoom.call(lambda: zoom.simulator.tokens.expire(HOST_ZOOM_ID))
    response = _client(host).post(f"/meetings/{hosted.pk}/rtms/", {"action": "start"}, follow=True)
    assert any("Zoom is starting the stream" in m for m in _messages(response))
    assert _grants(zoom) == ["refresh_token"]
    assert zoom.call(lambda: list(live.calls)) == [("start", HOST_ZOOM_ID)]
    grant = ZoomGrant.objects.get(user=host)
    fresh = sealing.unseal(grant.access_token_sealed), sealing.unseal(grant.refresh_token_sealed)
    assert fresh[0] != issued["access_token"] and fresh[1] != issued["refresh_token"]
    # The next call uses the new token as it is: no second refresh.
    _client(host).post(f"/meetings/{hosted.pk}/rtms/", {"action": "pause"})
    assert _grants(zoom) == ["refresh_token"]
    for token in (*fresh, issued["access_token"], issued["refresh_token"]):
        assert token not in caplog.text


def test_a_revoked_refresh_token_is_reported_with_a_link_to_connect_zoom_again(
    zoom: SimulatedZoom, live: LiveMeeting, hosted: Meeting, host: User
) -> None:
    _sign_in_with_zoom(zoom, host, HOST_ZOOM_ID)
    zoom.call(lambda: zoom.simulator.tokens.expire(HOST_ZOOM_ID))
    zoom.call(lambda: zoom.simulator.tokens.revoke(HOST_ZOOM_ID))
    client = _client(host)
    response = client.post(f"/meetings/{hosted.pk}/rtms/", {"action": "start"}, follow=True)
    assert any("Connect Zoom again" in m for m in _messages(response))
    assert 'href="/zoomapp/install"' in response.content.decode()
    assert ZoomGrant.objects.get(user=host).needs_sign_in
    assert zoom.call(lambda: list(live.calls)) == []
    # Known to be refused: Zoom is not asked again until the host signs in again.
    client.post(f"/meetings/{hosted.pk}/rtms/", {"action": "start"})
    assert _grants(zoom) == ["refresh_token"]


def test_zoom_refusals_are_told_in_words(
    zoom: SimulatedZoom, live: LiveMeeting, host: User
) -> None:
    _sign_in_with_zoom(zoom, host, HOST_ZOOM_ID)
    client = _client(host)
    unknown = client.post("/meetings/rtms/start/", {"meeting_id": "99999999999"}, follow=True)
    assert any("no meeting in progress with that ID" in m for m in _messages(unknown))
    typo = client.post("/meetings/rtms/start/", {"meeting_id": "12ab"}, follow=True)
    assert any("Type the meeting's ID" in m for m in _messages(typo))


def test_someone_who_sees_the_meeting_but_does_not_host_it_gets_403(
    zoom: SimulatedZoom, live: LiveMeeting, hosted: Meeting, coworker: User
) -> None:
    client = panel_client(mid=hosted.zoom_id, uid="zoom-participant-9")
    client.force_login(coworker)
    assert client.get(f"/meetings/{hosted.pk}/").status_code == 200
    assert client.post(f"/meetings/{hosted.pk}/rtms/", {"action": "stop"}).status_code == 403
    assert (
        _client(coworker).post(f"/meetings/{hosted.pk}/rtms/", {"action": "stop"}).status_code
        == 404
    )
    assert zoom.call(lambda: list(live.calls)) == []


def test_staff_without_zoom_tokens_see_why_they_cannot(
    zoom: SimulatedZoom, hosted: Meeting, admin_user: User
) -> None:
    client = _client(admin_user)
    page = client.get(f"/meetings/{hosted.pk}/").content.decode()
    assert "needs your Zoom sign-in" in page and 'href="/zoomapp/install"' in page
    response = client.post(f"/meetings/{hosted.pk}/rtms/", {"action": "pause"}, follow=True)
    assert any("needs your Zoom sign-in" in m for m in _messages(response))


def test_the_controls_need_a_csrf_token(
    zoom: SimulatedZoom, live: LiveMeeting, hosted: Meeting, host: User
) -> None:
    _sign_in_with_zoom(zoom, host, HOST_ZOOM_ID)
    client = Client(enforce_csrf_checks=True)
    client.force_login(host)
    assert client.post(f"/meetings/{hosted.pk}/rtms/", {"action": "start"}).status_code == 403
    assert client.post("/meetings/rtms/start/", {"meeting_id": "12345678901"}).status_code == 403
    assert zoom.call(lambda: list(live.calls)) == []


def test_the_meeting_page_shows_the_host_the_controls_for_the_stream_state(
    zoom: SimulatedZoom, hosted: Meeting, host: User
) -> None:
    _sign_in_with_zoom(zoom, host, HOST_ZOOM_ID)
    page = _client(host).get(f"/meetings/{hosted.pk}/").content.decode()
    assert 'data-phase="live"' in page
    assert 'data-rtms-action="pause">' in page  # enabled
    assert 'data-rtms-action="start" disabled' in page
    assert "js/rtms-controls.js" in page


def test_a_meeting_zoom_ended_offers_no_controls_one_stopped_by_its_host_offers_start(
    zoom: SimulatedZoom, hosted: Meeting, host: User
) -> None:
    _sign_in_with_zoom(zoom, host, HOST_ZOOM_ID)
    Meeting.objects.filter(pk=hosted.pk).update(state=Meeting.State.ENDED, stop_reason=25)
    page = _client(host).get(f"/meetings/{hosted.pk}/").content.decode()
    assert 'data-phase="stopped"' in page and 'data-rtms-action="start">' in page

    Meeting.objects.filter(pk=hosted.pk).update(stop_reason=6)  # MEETING_ENDED
    page = _client(host).get(f"/meetings/{hosted.pk}/").content.decode()
    assert "data-rtms-action" not in page


def test_deauthorization_deletes_the_tokens(zoom: SimulatedZoom, host: User) -> None:
    _sign_in_with_zoom(zoom, host, HOST_ZOOM_ID)
    audit = deauthorization.deauthorize(
        {"user_id": HOST_ZOOM_ID, "user_data_retention": "true"}, "delivery-1"
    )
    assert audit.tokens_deleted
    assert not ZoomGrant.objects.filter(user=host).exists()


def test_reseal_secrets_moves_the_tokens_to_the_first_key(settings: Settings, host: User) -> None:
    key_a, key_b = sealing.new_key(), sealing.new_key()
    settings.DATA_ENCRYPTION_KEYS = [key_a]
    tokens = TokenSet("access-abc", "refresh-def", 3600, ())
    zoom_grants.store(host, HOST_ZOOM_ID, tokens)
    settings.DATA_ENCRYPTION_KEYS = [key_b, key_a]
    out = StringIO()
    call_command("reseal_secrets", stdout=out)
    assert "ZoomGrant.refresh_token_sealed: 1 resealed" in out.getvalue()
    settings.DATA_ENCRYPTION_KEYS = [key_b]
    assert zoom_grants.access_token(host) == "access-abc"
