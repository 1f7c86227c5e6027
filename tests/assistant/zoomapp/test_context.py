"""The app context: our own vectors, each with the outcome Zoom's format calls for."""

from __future__ import annotations

import base64
import struct
import time

import pytest
from django.conf import settings

from assistant.services import panel
from assistant.zoomapp.context import (
    ContextError,
    check_context,
    decrypt_context,
    read_context,
    seal_context,
)
from tests.assistant.zoomapp.contexts import context_fields, make_context, with_nonce_length


def _read(token: str, **kwargs: object) -> object:
    options: dict[str, object] = {
        "client_id": settings.ZOOM_CLIENT_ID,
        "client_secret": settings.ZOOM_CLIENT_SECRET,
        "now_ms": int(time.time() * 1000),
        "max_chars": 2048,
    }
    options.update(kwargs)
    return read_context(token, **options)  # type: ignore[arg-type]


def _refusal(token: str, **kwargs: object) -> str:
    with pytest.raises(ContextError) as caught:
        _read(token, **kwargs)
    return str(caught.value)


def test_happy_path_yields_meeting_user_and_role() -> None:
    context = _read(make_context(attendrole="host"))
    assert context.meeting_uuid == "mEeTiNg+uuid/1=="  # type: ignore[attr-defined]
    assert context.zoom_user_id == "zoom-participant-1"  # type: ignore[attr-defined]
    assert context.is_host and not context.is_guest  # type: ignore[attr-defined]


def test_additional_data_is_authenticated_too() -> None:
    token = seal_context(context_fields(), settings.ZOOM_CLIENT_SECRET, aad=b"zoom-aad")
    assert _read(token).meeting_uuid == "mEeTiNg+uuid/1=="  # type: ignore[attr-defined]


def test_url_safe_unpadded_base64_is_read_as_node_reads_it() -> None:
    token = make_context().replace("+", "-").replace("/", "_").rstrip("=")
    assert _read(token).zoom_user_id == "zoom-participant-1"  # type: ignore[attr-defined]


def test_missing_uid_is_a_guest() -> None:
    context = _read(make_context(uid=None))
    assert context.is_guest  # type: ignore[attr-defined]


def test_wrong_secret_is_refused() -> None:
    assert _refusal(make_context(secret="someone-elses-secret")) == "not sealed with our secret"


@pytest.mark.parametrize("where", [1, 20, -20, -1])
def test_a_flipped_byte_is_refused(where: int) -> None:
    raw = bytearray(base64.b64decode(make_context()))
    raw[where] ^= 0x01
    assert _refusal(base64.b64encode(bytes(raw)).decode()) in {
        "not sealed with our secret",
        "truncated",
        "bad length",
    }


def test_expired_context_is_refused() -> None:
    past = int(time.time() * 1000) - 1
    assert _refusal(make_context(exp=past)) == "expired"


def test_context_without_expiry_is_refused() -> None:
    assert _refusal(make_context(exp=None)) == "expired"


def test_wrong_audience_is_refused() -> None:
    assert _refusal(make_context(aud="another-app")) == "wrong audience"


def test_wrong_issuer_is_refused() -> None:
    assert _refusal(make_context(iss="evil.example")) == "wrong issuer"


@pytest.mark.parametrize("keep", [0, 1, 5, 14, 20])
def test_truncated_context_is_refused(keep: int) -> None:
    raw = base64.b64decode(make_context())[:keep]
    assert _refusal(base64.b64encode(raw).decode()) in {"truncated", "not base64", "bad length"}


def test_oversized_header_is_refused_before_decoding() -> None:
    assert _refusal("A" * 5000, max_chars=2048) == "too large"


def test_negative_cipher_length_is_refused() -> None:
    raw = bytearray(base64.b64decode(make_context()))
    iv_len = raw[0]
    (aad_len,) = struct.unpack_from("<H", raw, 1 + iv_len)
    struct.pack_into("<i", raw, 1 + iv_len + 2 + aad_len, -5)
    assert _refusal(base64.b64encode(bytes(raw)).decode()) == "bad length"


def test_oversized_cipher_length_is_refused() -> None:
    raw = bytearray(base64.b64decode(make_context()))
    iv_len = raw[0]
    (aad_len,) = struct.unpack_from("<H", raw, 1 + iv_len)
    struct.pack_into("<i", raw, 1 + iv_len + 2 + aad_len, 2**31 - 1)
    assert _refusal(base64.b64encode(bytes(raw)).decode()) == "bad length"


def test_garbage_is_refused() -> None:
    assert _refusal("not a context!") == "not base64"


def test_no_configured_secret_refuses_everything() -> None:
    with pytest.raises(ContextError):
        decrypt_context(make_context(), "")


def test_non_object_json_is_refused() -> None:
    with pytest.raises(ContextError):
        check_context(["exp"], client_id="x", now_ms=0)


def test_replayed_context_is_refused(db: None) -> None:
    token = make_context()
    panel.open_context(token)
    with pytest.raises(ContextError, match="replayed"):
        panel.open_context(token)


def test_distinct_contexts_of_one_user_are_each_accepted_once(db: None) -> None:
    panel.open_context(make_context())
    panel.open_context(make_context())


B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def _padded_context() -> str:
    """A fresh token whose base64 ends in padding (its last character has unused bits)."""
    for length in range(3):
        token = make_context(mid="m" * length)
        if token.endswith("=="):
            return token
    raise AssertionError("no length gave two padding characters")


def _respellings(token: str) -> dict[str, str]:
    """The same token bytes in the other base64 spellings Node's decoder (and ours) accepts."""
    url_safe = base64.urlsafe_b64encode(base64.b64decode(token)).decode()
    body = token.rstrip("=")
    # Before "==" the last character carries 2 bits of data and 4 unused ones: set one.
    loose = body[:-1] + B64[B64.index(body[-1]) | 1] + "=="
    return {
        "url-safe": url_safe,
        "url-safe-unpadded": url_safe.rstrip("="),
        "unpadded": body,
        "unused-bits-set": loose,
        "spaced": f" {token}\n",
    }


def _bytes_of(token: str) -> bytes:
    text = token.strip()
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@pytest.mark.parametrize("spelling", list(_respellings(make_context())))
def test_a_respelt_context_is_still_a_replay(db: None, spelling: str) -> None:
    token = _padded_context()
    respelt = _respellings(token)[spelling]
    assert respelt != token and _bytes_of(respelt) == _bytes_of(token)
    panel.open_context(token)
    with pytest.raises(ContextError, match="replayed"):
        panel.open_context(respelt)


@pytest.mark.parametrize("iv_len", [1, 7, 129, 255])
def test_a_nonce_of_a_length_aes_gcm_refuses_is_refused(iv_len: int) -> None:
    assert _refusal(with_nonce_length(make_context(), iv_len)) == "bad nonce length"
