"""STAFF_2FA: staff sign in with a TOTP code (django-otp) through the real login views; a staff
session without one counts as signed out; enrollment prints the secret and otpauth URI."""

from __future__ import annotations

import io
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings as django_settings
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from pytest_django.fixtures import Settings

from assistant.asgi import application
from assistant.models import Meeting
from assistant.services import second_factor

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse 9"  # the persona fixtures' (tests/conftest.py)


@pytest.fixture
def staff_2fa(settings: Settings) -> None:
    settings.STAFF_2FA = True


def _code(device: TOTPDevice) -> str:
    """The device's current code, as the user's authenticator app shows it."""
    value = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits)
    return str(value).zfill(device.digits)


def _sign_in(client: Client, username: str, code: str | None = None) -> Any:
    form = {"username": username, "password": PASSWORD}
    if code is not None:
        form["otp_token"] = code
    return client.post("/login/", form)


def test_staff_with_the_right_code_signs_in_and_reaches_the_admin(
    staff_2fa: None, admin_user: User
) -> None:
    device = second_factor.enroll(admin_user)
    client = Client()
    assert _sign_in(client, "admin", _code(device)).status_code == 302
    assert client.get("/admin/").status_code == 200


def test_staff_without_a_code_is_refused_with_the_reason(staff_2fa: None, admin_user: User) -> None:
    second_factor.enroll(admin_user)
    client = Client()
    response = _sign_in(client, "admin")
    assert response.status_code == 200
    assert "6-digit code" in response.content.decode()
    assert client.get("/admin/").status_code == 302


def test_staff_with_a_wrong_code_is_refused(staff_2fa: None, admin_user: User) -> None:
    device = second_factor.enroll(admin_user)
    wrong = str((int(_code(device)) + 1) % 10**6).zfill(6)
    response = _sign_in(Client(), "admin", wrong)
    assert response.status_code == 200
    assert "not valid" in response.content.decode()


def test_staff_without_a_device_cannot_sign_in(staff_2fa: None, admin_user: User) -> None:
    response = _sign_in(Client(), "admin", "123456")
    assert response.status_code == 200
    assert "enroll_totp" in response.content.decode()


def test_other_users_sign_in_with_their_password_alone(staff_2fa: None, host: User) -> None:
    assert _sign_in(Client(), "host").status_code == 302


def test_staff_session_without_the_second_factor_counts_as_signed_out(
    staff_2fa: None, admin_user: User
) -> None:
    """A session from before STAFF_2FA was turned on (force_login skips the form)."""
    client = Client()
    client.force_login(admin_user)
    assert client.get("/admin/").status_code == 302
    assert client.get("/api/meetings/").status_code == 401


def test_the_admin_login_sends_staff_to_the_form_that_asks_the_code(staff_2fa: None) -> None:
    response = Client().get("/admin/login/?next=/admin/assistant/")
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=%2Fadmin%2Fassistant%2F"


def test_without_staff_2fa_staff_sign_in_with_their_password(admin_user: User) -> None:
    client = Client()
    assert _sign_in(client, "admin").status_code == 302
    assert client.get("/admin/").status_code == 200


def test_enroll_totp_prints_the_secret_and_the_otpauth_uri(admin_user: User) -> None:
    out = io.StringIO()
    call_command("enroll_totp", "admin", stdout=out)
    device = TOTPDevice.objects.get(user=admin_user, confirmed=True)
    printed = out.getvalue()
    assert second_factor.secret_of(device) in printed
    assert "otpauth://totp/" in printed


def test_a_code_is_accepted_once(staff_2fa: None, admin_user: User) -> None:
    device = second_factor.enroll(admin_user)
    code = _code(device)
    assert _sign_in(Client(), "admin", code).status_code == 302
    # Within the same 30 s step, or the next: a replayed code is refused.
    assert _sign_in(Client(), "admin", code).status_code == 200


@database_sync_to_async
def _unverified_staff_cookie(user: User) -> bytes:
    client = Client()
    client.force_login(user)
    name = django_settings.SESSION_COOKIE_NAME
    return f"{name}={client.cookies[name].value}".encode()


@pytest.mark.django_db(transaction=True)
async def test_a_staff_socket_without_the_second_factor_is_refused(
    staff_2fa: None, admin_user: User, host: User
) -> None:
    meeting = await database_sync_to_async(Meeting.objects.create)(
        owner=host, zoom_id="2fa+uuid==", rtms_stream_id="2fa-stream"
    )
    headers = [
        (b"origin", django_settings.SITE_URL.encode()),
        (b"host", b"127.0.0.1"),
        (b"cookie", await _unverified_staff_cookie(admin_user)),
    ]
    socket = WebsocketCommunicator(application, f"/ws/meetings/{meeting.pk}/", headers=headers)
    assert await socket.connect(timeout=5) == (False, 4403)
    await socket.disconnect()
