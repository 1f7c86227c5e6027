"""The `x-zoom-app-context` token: unpack, decrypt and check it (pure: no Django, no I/O).

Layout after base64 (docs/zoom-apps.md 1.3): [iv length: u8][iv][aad length: u16 LE][aad]
[cipher length: i32 LE][cipher text][16-byte GCM tag]; AES-256-GCM keyed with SHA-256 of the
client secret; the plaintext is JSON with `exp`/`ts` in epoch milliseconds.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import struct
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

ISSUER = "marketplace.zoom.us"
TAG_BYTES = 16
# The nonce lengths AES-GCM takes (cryptography refuses others with a ValueError); Zoom's is 12.
MIN_IV_BYTES, MAX_IV_BYTES = 8, 128
# Zoom's contexts are a few hundred characters; a cap keeps a hostile header from costing work.
DEFAULT_MAX_CHARS = 2048
# Roles that may drive the meeting's RTMS stream from the panel (display only: Zoom enforces).
HOST_ROLES = frozenset({"host", "co-host"})


class ContextError(ValueError):
    """The context is unusable; the message says why without echoing any of it."""


@dataclass(frozen=True)
class AppContext:
    """The checked fields of a decrypted app context."""

    typ: str
    meeting_uuid: str  # `mid`; empty outside a meeting
    zoom_user_id: str  # `uid`; empty for a guest
    role: str  # `attendrole`; may be stale by the time it is read
    issued_ms: int
    expires_ms: int

    @property
    def is_guest(self) -> bool:
        """Guest Mode: Zoom tells us nobody's identity."""
        return not self.zoom_user_id

    @property
    def is_host(self) -> bool:
        """Whether the opener was host or co-host when the context was issued."""
        return self.role in HOST_ROLES


def context_key(client_secret: str) -> bytes:
    """The AES-256 key: the raw SHA-256 digest of the client secret (no KDF, per Zoom)."""
    return hashlib.sha256(client_secret.encode()).digest()


def _b64decode(text: str) -> bytes:
    """Standard or URL-safe base64, padded or not (Node's decoder accepts both)."""
    cleaned = text.strip().replace("-", "+").replace("_", "/")
    try:
        return base64.b64decode(cleaned + "=" * (-len(cleaned) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise ContextError("not base64") from None


def _unpack(raw: bytes) -> tuple[bytes, bytes, bytes]:
    """(iv, aad, cipher text + tag) from the packed bytes; every length is bounds-checked."""
    pos = 0
    try:
        iv_len = raw[pos]
        pos += 1
        iv = raw[pos : pos + iv_len]
        pos += iv_len
        (aad_len,) = struct.unpack_from("<H", raw, pos)
        pos += 2
        aad = raw[pos : pos + aad_len]
        pos += aad_len
        (ct_len,) = struct.unpack_from("<i", raw, pos)
        pos += 4
    except (IndexError, struct.error):
        raise ContextError("truncated") from None
    if iv_len == 0 or len(iv) != iv_len or len(aad) != aad_len:
        raise ContextError("truncated")
    if not MIN_IV_BYTES <= iv_len <= MAX_IV_BYTES:
        raise ContextError("bad nonce length")
    if ct_len < 0 or pos + ct_len + TAG_BYTES != len(raw):
        raise ContextError("bad length")
    return iv, aad, raw[pos:]


def token_digest(header: str) -> str:
    """SHA-256 (hex) of the token's bytes: one per sealed context, however its base64 is spelt.

    The same bytes have many spellings (standard or URL-safe alphabet, with or without padding,
    other unused trailing bits): a one-use check keyed on the text would take each as new.
    """
    return hashlib.sha256(_b64decode(header)).hexdigest()


def decrypt_context(header: str, client_secret: str, *, max_chars: int = DEFAULT_MAX_CHARS) -> Any:
    """The JSON inside a context token; raises ContextError when it cannot be read."""
    if not client_secret:
        raise ContextError("no client secret configured")
    if len(header) > max_chars:
        raise ContextError("too large")
    iv, aad, sealed = _unpack(_b64decode(header))
    try:
        plain = AESGCM(context_key(client_secret)).decrypt(iv, sealed, aad or None)
    except InvalidTag:
        raise ContextError("not sealed with our secret") from None
    try:
        return json.loads(plain)
    except (ValueError, UnicodeDecodeError):
        raise ContextError("not JSON") from None


def check_context(fields: Any, *, client_id: str, now_ms: int) -> AppContext:
    """Check issuer, audience and expiry of decrypted fields; missing `uid` means a guest."""
    if not isinstance(fields, dict):
        raise ContextError("not an object")
    exp = fields.get("exp")
    if not isinstance(exp, int) or isinstance(exp, bool) or exp < now_ms:
        raise ContextError("expired")
    if fields.get("iss") != ISSUER:
        raise ContextError("wrong issuer")
    if not client_id or fields.get("aud") != client_id:
        raise ContextError("wrong audience")
    ts = fields.get("ts")
    return AppContext(
        typ=_text(fields, "typ"),
        meeting_uuid=_text(fields, "mid"),
        zoom_user_id=_text(fields, "uid"),
        role=_text(fields, "attendrole").lower(),
        issued_ms=ts if isinstance(ts, int) and not isinstance(ts, bool) else 0,
        expires_ms=exp,
    )


def _text(fields: dict[str, Any], name: str) -> str:
    value = fields.get(name)
    return value.strip() if isinstance(value, str) else ""


def read_context(
    header: str, *, client_id: str, client_secret: str, now_ms: int, max_chars: int
) -> AppContext:
    """Decrypt and check a context token in one step."""
    return check_context(
        decrypt_context(header, client_secret, max_chars=max_chars),
        client_id=client_id,
        now_ms=now_ms,
    )


def seal_context(fields: dict[str, Any], client_secret: str, *, aad: bytes = b"") -> str:
    """Build a context token as Zoom does: for the tests and the demo, never for trust."""
    iv = os.urandom(12)
    sealed = AESGCM(context_key(client_secret)).encrypt(
        iv, json.dumps(fields).encode(), aad or None
    )
    cipher, tag = sealed[:-TAG_BYTES], sealed[-TAG_BYTES:]
    packed = (
        bytes([len(iv)])
        + iv
        + struct.pack("<H", len(aad))
        + aad
        + struct.pack("<i", len(cipher))
        + cipher
        + tag
    )
    return base64.b64encode(packed).decode()
