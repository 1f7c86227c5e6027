"""A second factor for staff (STAFF_2FA): a TOTP code from an authenticator app (django-otp).

Staff read every meeting, so with STAFF_2FA on a staff session counts only once a confirmed
TOTP device verified it at sign-in; a staff session without that (made before the setting was
turned on, or a user made staff while signed in) is treated as signed out. Devices are enrolled
by `manage.py enroll_totp USERNAME`, which shows the secret and its otpauth:// URI.
"""

from __future__ import annotations

from base64 import b32encode
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, User
from django.db import transaction
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

DEVICE_NAME = "authenticator"


class SecondFactorError(Exception):
    """The code is missing or wrong, or the staff user has no confirmed device."""


def required_for(user: AbstractBaseUser | AnonymousUser | None) -> bool:
    """Whether this user must present a second factor (staff, with STAFF_2FA on)."""
    return bool(settings.STAFF_2FA and isinstance(user, User) and user.is_staff)


def verified_device(user: User, code: str) -> TOTPDevice:
    """The user's confirmed TOTP device that accepts `code`; else SecondFactorError."""
    devices = list(TOTPDevice.objects.devices_for_user(user, confirmed=True))
    if not devices:
        raise SecondFactorError(
            "Staff accounts need a second factor and this one has none yet: ask an "
            "administrator to run `manage.py enroll_totp` for it."
        )
    code = code.strip().replace(" ", "")
    if not code:
        raise SecondFactorError("Enter the 6-digit code from your authenticator app.")
    for device in devices:
        # verify_token throttles a device after failures (django-otp's backoff).
        if device.verify_token(code):
            return device
    raise SecondFactorError("That code is not valid (or it was used already): try the next one.")


def session_is_verified(session: Any) -> bool:
    """Whether a second factor verified this session at sign-in (django-otp's session key)."""
    return bool(session is not None and session.get(DEVICE_ID_SESSION_KEY))


@transaction.atomic
def enroll(user: User, *, replace: bool = False) -> TOTPDevice:
    """A new confirmed TOTP device for the user; `replace` removes the ones they had."""
    if replace:
        TOTPDevice.objects.filter(user=user).delete()
    elif TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        raise SecondFactorError(f"{user.get_username()} already has a device: use --replace.")
    return TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=True)


def secret_of(device: TOTPDevice) -> str:
    """The device's secret as authenticator apps take it when typed in (base32)."""
    return b32encode(device.bin_key).decode()
