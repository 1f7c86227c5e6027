"""Secrets at rest: text sealed (encrypted and authenticated) before it is stored, unsealed to use.

Keys come from DATA_ENCRYPTION_KEYS, a comma list of Fernet keys (AES-128-CBC with an
HMAC-SHA256, from `cryptography`): the first seals, any of them unseals, so keys rotate by
putting a new one first, running `manage.py reseal_secrets`, then dropping the old one.

Without the setting a key is derived from SECRET_KEY (HKDF-SHA256), so a fresh checkout runs
without configuration; `check --deploy` warns about it (assistant.W031) and docker-compose.yml
requires the setting, because a derived key ties every sealed secret to SECRET_KEY (changing
it leaves them unreadable). A sealed value is ASCII text, safe in any text column.
"""

from __future__ import annotations

import base64
import functools

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.db import transaction
from django.db.models import Model

# Changing this would make every value sealed with a derived key unreadable.
_DERIVATION_INFO = b"meeting-assistant data encryption key v1"


class SealingError(Exception):
    """A sealed value no configured key opens (a key dropped too soon, or the value altered)."""


def seal(text: str) -> str:
    """The text encrypted under the first key."""
    return _keys().encrypt(text.encode("utf-8")).decode("ascii")


def unseal(sealed: str) -> str:
    """The text a sealed value holds; SealingError when no key opens it."""
    try:
        return _keys().decrypt(sealed.encode("ascii")).decode("utf-8")
    except (InvalidToken, UnicodeError):
        raise SealingError("no DATA_ENCRYPTION_KEYS key opens this value") from None


def reseal(sealed: str) -> str:
    """The same text sealed under the first key (rotation); SealingError as for unseal."""
    try:
        return _keys().rotate(sealed.encode("ascii")).decode("ascii")
    except (InvalidToken, UnicodeError):
        raise SealingError("no DATA_ENCRYPTION_KEYS key opens this value") from None


def new_key() -> str:
    """A fresh key for DATA_ENCRYPTION_KEYS."""
    return Fernet.generate_key().decode("ascii")


def uses_derived_key() -> bool:
    """Whether values are sealed with the key derived from SECRET_KEY (no keys configured)."""
    return not settings.DATA_ENCRYPTION_KEYS


def _keys() -> MultiFernet:
    return _fernets(tuple(settings.DATA_ENCRYPTION_KEYS), settings.SECRET_KEY)


@functools.lru_cache(maxsize=4)
def _fernets(keys: tuple[str, ...], secret_key: str) -> MultiFernet:
    """The configured keys, or the one derived from SECRET_KEY (cached per configuration)."""
    if keys:
        return MultiFernet([Fernet(key.encode("ascii")) for key in keys])
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_DERIVATION_INFO).derive(
        secret_key.encode("utf-8")
    )
    return MultiFernet([Fernet(base64.urlsafe_b64encode(derived))])


def reseal_field(model: type[Model], field: str) -> int:
    """Seal every stored value of a model's sealed field under the first key; how many."""
    count = 0
    rows = model._default_manager.exclude(**{field: ""}).values_list("pk", field)
    for pk, sealed in rows.iterator(chunk_size=500):
        fresh = reseal(sealed)
        if fresh != sealed:
            with transaction.atomic():
                # Only if unchanged meanwhile: a value saved since is sealed with the first key.
                count += model._default_manager.filter(pk=pk, **{field: sealed}).update(
                    **{field: fresh}
                )
    return count
