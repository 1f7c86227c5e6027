"""Who may see a meeting, over HTTP and the live socket alike: every persona, one rule.

Allowed: the host (owner, or the linked Zoom user who operates the stream), panel users whose
decrypted context names the meeting (guests included), staff. Refused: everyone else.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client, override_settings

from assistant.asgi import application
from assistant.models import Meeting, ZoomUserLink
from tests.assistant.zoomapp.contexts import HOME, make_context, panel_client

pytestmark = pytest.mark.django_db(transaction=True)

TIMEOUT = 5


@dataclass(frozen=True)
class Persona:
    client: Client
    may_see: bool


def _signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def meeting(make_meeting: Callable[..., Meeting], host: User) -> Meeting:
    return make_meeting(owner=host, state=Meeting.State.LIVE, zoom_id="the+meeting/uuid==")


@pytest.fixture
def other_meeting(make_meeting: Callable[..., Meeting]) -> Meeting:
    return make_meeting(state=Meeting.State.LIVE, zoom_id="another+meeting==")


PERSONAS = [
    "host",
    "operator_host",
    "participant",
    "participant_of_another_meeting",
    "guest",
    "signed_in_stranger",
    "anonymous",
    "staff",
]


@pytest.fixture
def persona(
    request: pytest.FixtureRequest,
    meeting: Meeting,
    other_meeting: Meeting,
    host: User,
    outsider: User,
    admin_user: User,
) -> Persona:
    name = request.param
    if name == "host":
        return Persona(_signed_in(host), True)
    if name == "operator_host":
        # Linked to the Zoom user who started the stream, after the meeting row was made.
        operator = User.objects.create_user("operator")
        ZoomUserLink.objects.create(user=operator, zoom_user_id="zoom-operator-7")
        Meeting.objects.filter(pk=meeting.pk).update(operator_id="zoom-operator-7")
        return Persona(_signed_in(operator), True)
    if name == "participant":
        return Persona(panel_client(mid=meeting.zoom_id, uid="zoom-part-1"), True)
    if name == "participant_of_another_meeting":
        return Persona(panel_client(mid=other_meeting.zoom_id, uid="zoom-part-2"), False)
    if name == "guest":
        return Persona(panel_client(mid=meeting.zoom_id, uid=None), True)
    if name == "signed_in_stranger":
        return Persona(_signed_in(outsider), False)
    if name == "anonymous":
        return Persona(Client(), False)
    assert name == "staff"
    return Persona(_signed_in(admin_user), True)


@pytest.mark.parametrize("persona", PERSONAS, indirect=True)
@pytest.mark.parametrize("url", ["/api/meetings/{id}/segments/", "/api/meetings/{id}/notes/"])
def test_http_api_follows_the_rule(persona: Persona, meeting: Meeting, url: str) -> None:
    response = persona.client.get(url.format(id=meeting.pk))
    if persona.may_see:
        assert response.status_code == 200
    else:
        assert response.status_code in (401, 403, 404)


@pytest.mark.parametrize("persona", PERSONAS, indirect=True)
def test_meeting_list_api_lists_only_visible_meetings(
    persona: Persona, meeting: Meeting, other_meeting: Meeting
) -> None:
    response = persona.client.get("/api/meetings/")
    ids = {m["id"] for m in response.json().get("results", [])}
    assert (meeting.pk in ids) == persona.may_see


@pytest.mark.parametrize("persona", PERSONAS, indirect=True)
def test_panel_page_shows_the_meeting_only_to_its_panel_users(
    persona: Persona, meeting: Meeting, request: pytest.FixtureRequest
) -> None:
    response = persona.client.get("/zoomapp/panel")
    shows = response.status_code == 200 and f'data-meeting-id="{meeting.pk}"' in (
        response.content.decode()
    )
    # The panel is for panel sessions: signed-in dashboard users use the dashboard.
    in_panel = request.node.callspec.params["persona"] in ("participant", "guest")
    assert shows == in_panel
    if not in_panel and response.status_code != 200:
        assert response.status_code == 403


@pytest.mark.parametrize("persona", PERSONAS, indirect=True)
async def test_live_socket_follows_the_rule(persona: Persona, meeting: Meeting) -> None:
    socket = WebsocketCommunicator(
        application, f"/ws/meetings/{meeting.pk}/", headers=_headers(persona.client)
    )
    connected, code = await socket.connect(timeout=TIMEOUT)
    # Always let the consumer finish (refused ones too): a task left waiting on the channel
    # layer once hung the event loop's teardown for the whole test timeout.
    await socket.disconnect()
    if persona.may_see:
        assert connected, f"refused with {code}"
    else:
        assert not connected
        assert code == 4403


def _headers(client: Client, origin: str | None = None) -> list[tuple[bytes, bytes]]:
    headers = [(b"origin", (origin or settings.SITE_URL).encode()), (b"host", b"127.0.0.1")]
    cookie = client.cookies.get(settings.SESSION_COOKIE_NAME)
    if cookie is not None:
        headers.append((b"cookie", f"{settings.SESSION_COOKIE_NAME}={cookie.value}".encode()))
    return headers


@override_settings(ALLOWED_HOSTS=["*"])
@pytest.mark.parametrize("origin", ["https://evil.example", "null", "", "http://127.0.0.1:8001"])
async def test_foreign_origin_is_refused_even_with_a_staff_cookie_and_any_host(
    origin: str, meeting: Meeting, admin_user: User
) -> None:
    client = await database_sync_to_async(_signed_in)(admin_user)
    headers = [h for h in _headers(client, origin) if h[0] != b"origin" or origin]
    socket = WebsocketCommunicator(application, f"/ws/meetings/{meeting.pk}/", headers=headers)
    connected, _ = await socket.connect(timeout=TIMEOUT)
    await socket.disconnect()
    assert not connected


@override_settings(
    ALLOWED_HOSTS=["*"],
    SITE_URL="https://notes.example.com",
    CSRF_TRUSTED_ORIGINS=["https://*.corp.example"],
)
@pytest.mark.parametrize("origin", ["https://notes.example.com", "https://app.corp.example"])
async def test_configured_origins_are_trusted(
    origin: str, meeting: Meeting, admin_user: User
) -> None:
    client = await database_sync_to_async(_signed_in)(admin_user)
    socket = WebsocketCommunicator(
        application, f"/ws/meetings/{meeting.pk}/", headers=_headers(client, origin)
    )
    connected, code = await socket.connect(timeout=TIMEOUT)
    assert connected, f"refused with {code}"
    await socket.disconnect()


async def test_panel_socket_is_closed_once_the_session_moves_to_another_meeting(
    meeting: Meeting, other_meeting: Meeting
) -> None:
    client = await database_sync_to_async(panel_client)(mid=meeting.zoom_id)
    socket = WebsocketCommunicator(
        application, f"/ws/meetings/{meeting.pk}/", headers=_headers(client)
    )
    connected, _ = await socket.connect(timeout=TIMEOUT)
    assert connected
    await socket.receive_nothing(timeout=0.2)
    # The same browser opens the app in another meeting: its session now names that one.
    token = make_context(mid=other_meeting.zoom_id)
    response = await database_sync_to_async(client.get)(HOME, HTTP_X_ZOOM_APP_CONTEXT=token)
    assert response.status_code == 302
    await socket.send_json_to({"type": "ping"})
    message = await socket.receive_output(timeout=TIMEOUT)
    assert message == {"type": "websocket.close", "code": 4403}
    await socket.disconnect()
