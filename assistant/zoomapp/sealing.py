"""Secrets at rest (OAuth tokens, account ids): Fernet (AES-CBC + HMAC) with key rotation.

Keys come from ZOOM_TOKEN_KEYS only (newest first). Everything is sealed with the first key
and opened with any of them, so a new key is rolled in by prepending it, re-sealing the rows
(`reseal`), then dropping the old key.
"""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class SealError(ValueError):
    """A sealed value that none of the configured keys opens."""


def _keyring() -> MultiFernet:
    keys = settings.ZOOM_TOKEN_KEYS
    if not keys:
        raise ImproperlyConfigured("ZOOM_TOKEN_KEYS is not set: Zoom tokens cannot be stored.")
    try:
        return MultiFernet([Fernet(key) for key in keys])
    except ValueError:
        raise ImproperlyConfigured("ZOOM_TOKEN_KEYS holds a malformed Fernet key.") from None


def keys_problem() -> str:
    """Why the configured keys are unusable, or "" when they are fine (for system checks)."""
    try:
        _keyring()
    except ImproperlyConfigured as exc:
        return str(exc)
    return ""


def seal(text: str) -> str:
    """Encrypt and authenticate `text` with the newest key."""
    return _keyring().encrypt(text.encode()).decode()


def unseal(sealed: str) -> str:
    """The text inside `sealed`; raises SealError when no configured key opens it."""
    try:
        return _keyring().decrypt(sealed.encode()).decode()
    except InvalidToken:
        raise SealError("sealed with an unknown key, or altered") from None


def reseal(sealed: str) -> str:
    """The same text sealed with the newest key (key rotation)."""
    try:
        return _keyring().rotate(sealed.encode()).decode()
    except InvalidToken:
        raise SealError("sealed with an unknown key, or altered") from None
