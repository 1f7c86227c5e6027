"""Sign-in throttling (django-axes) through the real login views, on PostgreSQL.

A user name that failed LOGIN_FAILURE_LIMIT times, and an address that did, are refused (429,
the sign-in page saying until when) even with the right password; a success clears the count.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client
from pytest_django.fixtures import Settings

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse 9"  # the persona fixtures' (tests/conftest.py)
ATTACKER = "198.51.100.7"


def _sign_in(
    username: str, password: str, address: str, path: str = "/login/", **headers: Any
) -> Any:
    return Client().post(
        path, {"username": username, "password": password}, REMOTE_ADDR=address, **headers
    )


def _expected(attempt: int) -> int:
    """The status of the n-th (0-based) failure in a row: the one reaching the limit locks."""
    return 429 if attempt + 1 >= settings.LOGIN_FAILURE_LIMIT else 200


def _fail(username: str, address: str, times: int, path: str = "/login/") -> None:
    for n in range(times):
        assert _sign_in(username, "wrong password", address, path).status_code == _expected(n)


def _assert_locked(response: Any) -> None:
    assert response.status_code == 429
    assert int(response["Retry-After"]) > (settings.LOGIN_COOLOFF_MINUTES - 1) * 60
    page = response.content.decode()
    assert "signing in is locked for now, even with the right password" in page
    assert "Try again after" in page


def test_a_user_name_that_failed_too_often_is_locked_even_with_the_right_password(
    host: User,
) -> None:
    # From a fresh address each time: only the user name's count can lock it.
    for n in range(settings.LOGIN_FAILURE_LIMIT):
        assert _sign_in("host", "wrong password", f"203.0.113.{n}").status_code == _expected(n)
    _assert_locked(_sign_in("host", PASSWORD, "192.0.2.200"))


def test_an_address_that_failed_too_often_is_locked_for_every_user_name(
    host: User, coworker: User
) -> None:
    for n in range(settings.LOGIN_FAILURE_LIMIT):
        assert _sign_in(f"guess{n}", "wrong password", ATTACKER).status_code == _expected(n)
    _assert_locked(_sign_in("host", PASSWORD, ATTACKER))
    # Elsewhere, the same user signs in as usual.
    assert _sign_in("host", PASSWORD, "192.0.2.10").status_code == 302


def test_fewer_failures_than_the_limit_still_sign_in(host: User) -> None:
    _fail("host", ATTACKER, settings.LOGIN_FAILURE_LIMIT - 1)
    assert _sign_in("host", PASSWORD, ATTACKER).status_code == 302


def test_a_successful_sign_in_clears_the_failures(host: User) -> None:
    _fail("host", ATTACKER, settings.LOGIN_FAILURE_LIMIT - 1)
    assert _sign_in("host", PASSWORD, ATTACKER).status_code == 302
    _fail("host", ATTACKER, settings.LOGIN_FAILURE_LIMIT - 1)
    assert _sign_in("host", PASSWORD, ATTACKER).status_code == 302


def test_the_admin_login_is_throttled_too(admin_user: User) -> None:
    _fail("admin", ATTACKER, settings.LOGIN_FAILURE_LIMIT, path="/admin/login/")
    _assert_locked(_sign_in("admin", PASSWORD, ATTACKER, path="/admin/login/"))
    # And the lock is shared: the site's own login refuses that user name too.
    _assert_locked(_sign_in("admin", PASSWORD, "192.0.2.10"))


def test_a_forged_forwarded_for_does_not_escape_the_address_lock(host: User) -> None:
    """Without a trusted proxy, X-Forwarded-For is the client's own writing: never read."""
    for n in range(settings.LOGIN_FAILURE_LIMIT):
        forged = f"10.9.8.{n}"
        response = _sign_in(f"guess{n}", "x", ATTACKER, HTTP_X_FORWARDED_FOR=forged)
        assert response.status_code == _expected(n)
    _assert_locked(_sign_in("host", PASSWORD, ATTACKER, HTTP_X_FORWARDED_FOR="10.9.8.200"))


def test_behind_a_trusted_proxy_the_address_it_saw_is_the_one_counted(
    settings: Settings, host: User
) -> None:
    settings.TRUSTED_PROXY_COUNT = 1
    proxy = "10.0.0.2"
    for n in range(settings.LOGIN_FAILURE_LIMIT):
        # The client writes whatever it likes on the left; the proxy appends what it saw.
        chain = f"10.9.8.{n}, {ATTACKER}"
        response = _sign_in(f"guess{n}", "x", proxy, HTTP_X_FORWARDED_FOR=chain)
        assert response.status_code == _expected(n)
    _assert_locked(_sign_in("host", PASSWORD, proxy, HTTP_X_FORWARDED_FOR=ATTACKER))
    # Another client behind the same proxy is not locked out with the attacker.
    assert _sign_in("host", PASSWORD, proxy, HTTP_X_FORWARDED_FOR="192.0.2.10").status_code == 302


def test_a_new_password_of_eleven_characters_is_refused(admin_user: User) -> None:
    client = Client()
    client.force_login(admin_user)
    short = "kx7#vq2!mz9"
    assert len(short) == 11
    response = client.post(
        "/admin/password_change/",
        {"old_password": PASSWORD, "new_password1": short, "new_password2": short},
    )
    assert response.status_code == 200
    assert "at least 12 characters" in response.content.decode()
    admin_user.refresh_from_db()
    assert admin_user.check_password(PASSWORD)
    longer = short + "w"
    response = client.post(
        "/admin/password_change/",
        {"old_password": PASSWORD, "new_password1": longer, "new_password2": longer},
    )
    assert response.status_code == 302
    admin_user.refresh_from_db()
    assert admin_user.check_password(longer)
