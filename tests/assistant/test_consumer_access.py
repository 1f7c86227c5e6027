"""A live socket outlives no access: closed at sign-out, at a grant's expiry, and on the
server's own clock (LIVE_ACCESS_RECHECK_S) for everything else, whether the viewer pings or not.

Real ASGI app, PostgreSQL and the Redis channel layer; none of these viewers ever pings.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.contrib.auth.models import User
from django.contrib.sessions.models import Session
from django.test import Client
from pytest_django.fixtures import Settings

from assistant.asgi import application
from assistant.models import Meeting
from tests.assistant.zoomapp.contexts import panel_client
from tests.rtms_ingest.webhooks.edge import apost
from tests.rtms_ingest.webhooks.test_deauthorized import event

pytestmark = pytest.mark.django_db(transaction=True)

MakeMeeting = Callable[..., Meeting]
TIMEOUT = 5
# The re-check period of the tests that rely on it: short, so nothing sleeps a minute.
SHORT_PERIOD_S = 0.3
SIGNED_OUT, FORBIDDEN = 4401, 4403


@database_sync_to_async
def _browser(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


async def _socket_of(client: Client, meeting_id: int) -> WebsocketCommunicator:
    name = settings.SESSION_COOKIE_NAME
    headers = [
        (b"origin", settings.SITE_URL.encode()),
        (b"host", b"127.0.0.1"),
        (b"cookie", f"{name}={client.cookies[name].value}".encode()),
    ]
    socket = WebsocketCommunicator(application, f"/ws/meetings/{meeting_id}/", headers=headers)
    connected, code = await socket.connect(timeout=TIMEOUT)
    assert connected, f"refused with {code}"
    return socket


async def _closed_with(socket: WebsocketCommunicator, within_s: float = TIMEOUT) -> int:
    """The close code the server sends next (any event before it is skipped); then hang up."""
    while True:
        message: dict[str, Any] = await socket.receive_output(timeout=within_s)
        if message["type"] == "websocket.close":
            await socket.disconnect()
            return int(message["code"])


async def test_sign_out_closes_the_sessions_socket_at_once(
    make_meeting: MakeMeeting, host: User
) -> None:
    meeting = await database_sync_to_async(make_meeting)(owner=host)
    browser = await _browser(host)
    socket = await _socket_of(browser, meeting.pk)
    assert await socket.receive_nothing(timeout=0.2)
    # The default period is a minute: only the sign-out itself can close it within seconds.
    assert settings.LIVE_ACCESS_RECHECK_S == 60
    response = await database_sync_to_async(browser.post)("/logout/")
    assert response.status_code == 302
    assert await _closed_with(socket) == SIGNED_OUT


async def test_sign_out_leaves_the_users_other_sessions_open(
    make_meeting: MakeMeeting, host: User
) -> None:
    meeting = await database_sync_to_async(make_meeting)(owner=host)
    laptop, phone = await _browser(host), await _browser(host)
    laptop_socket = await _socket_of(laptop, meeting.pk)
    phone_socket = await _socket_of(phone, meeting.pk)
    await database_sync_to_async(laptop.post)("/logout/")
    assert await _closed_with(laptop_socket) == SIGNED_OUT
    assert await phone_socket.receive_nothing(timeout=0.5)
    await phone_socket.disconnect()


async def test_deactivated_viewer_is_closed_without_pinging(
    settings: Settings, make_meeting: MakeMeeting, host: User
) -> None:
    settings.LIVE_ACCESS_RECHECK_S = SHORT_PERIOD_S
    meeting = await database_sync_to_async(make_meeting)(owner=host)
    socket = await _socket_of(await _browser(host), meeting.pk)
    await database_sync_to_async(User.objects.filter(pk=host.pk).update)(is_active=False)
    assert await _closed_with(socket) == FORBIDDEN


async def test_viewer_who_loses_staff_is_closed_without_pinging(
    settings: Settings, make_meeting: MakeMeeting, host: User, admin_user: User
) -> None:
    settings.LIVE_ACCESS_RECHECK_S = SHORT_PERIOD_S
    meeting = await database_sync_to_async(make_meeting)(owner=host)
    socket = await _socket_of(await _browser(admin_user), meeting.pk)
    assert await socket.receive_nothing(timeout=SHORT_PERIOD_S * 3)  # still staff: stays open
    await database_sync_to_async(User.objects.filter(pk=admin_user.pk).update)(
        is_staff=False, is_superuser=False
    )
    assert await _closed_with(socket) == FORBIDDEN


async def test_session_ended_elsewhere_is_noticed_by_the_recheck(
    settings: Settings, make_meeting: MakeMeeting, host: User
) -> None:
    """A session deleted without a sign-out (its push lost, an admin's cleanup) still closes."""
    settings.LIVE_ACCESS_RECHECK_S = SHORT_PERIOD_S
    meeting = await database_sync_to_async(make_meeting)(owner=host)
    socket = await _socket_of(await _browser(host), meeting.pk)
    await database_sync_to_async(Session.objects.all().delete)()
    assert await _closed_with(socket) == FORBIDDEN


async def test_viewer_of_a_deleted_meeting_is_closed_without_pinging(
    settings: Settings, make_meeting: MakeMeeting, host: User
) -> None:
    settings.LIVE_ACCESS_RECHECK_S = SHORT_PERIOD_S
    meeting = await database_sync_to_async(make_meeting)(owner=host)
    socket = await _socket_of(await _browser(host), meeting.pk)
    await database_sync_to_async(Meeting.objects.filter(pk=meeting.pk).delete)()
    assert await _closed_with(socket) == FORBIDDEN


async def test_panel_socket_is_closed_when_its_grant_expires(
    settings: Settings, make_meeting: MakeMeeting, host: User
) -> None:
    settings.ZOOMAPP_SESSION_TTL_S = 2
    meeting = await database_sync_to_async(make_meeting)(owner=host, zoom_id="grant+uuid/1==")
    panel = await database_sync_to_async(panel_client)(mid=meeting.zoom_id)
    socket = await _socket_of(panel, meeting.pk)
    # Closed at the expiry itself, a minute before the periodic re-check would run.
    assert settings.LIVE_ACCESS_RECHECK_S == 60
    assert await socket.receive_nothing(timeout=0.5)
    assert await _closed_with(socket, within_s=3) == FORBIDDEN


async def test_deauthorization_closes_the_users_sockets_and_sessions_at_once(
    make_meeting: MakeMeeting, host: User
) -> None:
    """The host fixture is linked to Zoom user zoom-host-1, the user the webhook names."""
    meeting = await database_sync_to_async(make_meeting)(
        owner=host, operator_id="zoom-host-1", zoom_id="deauth+uuid/1=="
    )
    browser = await _browser(host)
    site_socket = await _socket_of(browser, meeting.pk)
    panel = await database_sync_to_async(panel_client)(mid=meeting.zoom_id, uid="zoom-host-1")
    panel_socket = await _socket_of(panel, meeting.pk)
    # A participant's panel in the same meeting is someone else's: it stays.
    guest = await database_sync_to_async(panel_client)(mid=meeting.zoom_id, uid="zoom-guest-9")
    guest_socket = await _socket_of(guest, meeting.pk)
    # Data retained: the meeting stays, so only the deauthorization can close the sockets.
    response = await apost(event(retain="true"))
    assert response.status_code == 200
    assert await _closed_with(site_socket) == SIGNED_OUT
    assert await _closed_with(panel_socket) == SIGNED_OUT
    assert await guest_socket.receive_nothing(timeout=0.5)
    await guest_socket.disconnect()
    # Both of the user's sessions are gone: the site refuses the browser from now on.
    signed_out = await database_sync_to_async(browser.get)("/")
    assert signed_out.status_code == 302
    assert await database_sync_to_async(Session.objects.count)() == 1  # the guest's


async def test_reconnecting_after_sign_out_is_refused(
    make_meeting: MakeMeeting, host: User
) -> None:
    meeting = await database_sync_to_async(make_meeting)(owner=host)
    browser = await _browser(host)
    old_cookie = browser.cookies[settings.SESSION_COOKIE_NAME].value
    socket = await _socket_of(browser, meeting.pk)
    await database_sync_to_async(browser.post)("/logout/")
    assert await _closed_with(socket) == SIGNED_OUT
    # The page stops on 4401; a script that retried anyway, with the old cookie, is refused.
    headers = [
        (b"origin", settings.SITE_URL.encode()),
        (b"host", b"127.0.0.1"),
        (b"cookie", f"{settings.SESSION_COOKIE_NAME}={old_cookie}".encode()),
    ]
    again = WebsocketCommunicator(application, f"/ws/meetings/{meeting.pk}/", headers=headers)
    assert await again.connect(timeout=TIMEOUT) == (False, FORBIDDEN)
    await again.disconnect()
