"""Our own `x-zoom-app-context` vectors, sealed as Zoom seals them, and panel sessions."""

from __future__ import annotations

import base64
import time
from typing import Any

from django.conf import settings
from django.test import Client

from assistant.zoomapp.context import ISSUER, seal_context

HOME = "/zoomapp/home"


def context_fields(**overrides: Any) -> dict[str, Any]:
    """A participant's in-meeting context as Zoom issues it (two minutes to live)."""
    now_ms = int(time.time() * 1000)
    fields: dict[str, Any] = {
        "typ": "meeting",
        "uid": "zoom-participant-1",
        "mid": "mEeTiNg+uuid/1==",
        "ts": now_ms,
        "exp": now_ms + 120_000,
        "iss": ISSUER,
        "aud": settings.ZOOM_CLIENT_ID,
        "attendrole": "participant",
        "entitlements": [],
    }
    fields.update(overrides)
    return {k: v for k, v in fields.items() if v is not None}


def make_context(secret: str | None = None, **overrides: Any) -> str:
    """A sealed context token; a field overridden with None is left out."""
    return seal_context(context_fields(**overrides), secret or settings.ZOOM_CLIENT_SECRET)


def with_nonce_length(token: str, iv_len: int) -> str:
    """`token` with its nonce replaced by `iv_len` zero bytes (AES-GCM takes 8 to 128)."""
    raw = base64.b64decode(token)
    return base64.b64encode(bytes([iv_len]) + bytes(iv_len) + raw[1 + raw[0] :]).decode()


def panel_client(**overrides: Any) -> Client:
    """A browser that opened the panel through the Home URL with a fresh context."""
    client = Client()
    response = client.get(HOME, HTTP_X_ZOOM_APP_CONTEXT=make_context(**overrides))
    assert response.status_code == 302, response.status_code
    return client
