"""Zoom webhook signatures and URL validation, shared by the receiver and the simulator."""

from __future__ import annotations

import hashlib
import hmac


def webhook_signature(secret_token: str, timestamp: str, raw_body: bytes) -> str:
    """The `x-zm-signature` value: v0= + hex HMAC-SHA256 over 'v0:{timestamp}:{raw body}'."""
    message = b"v0:" + timestamp.encode() + b":" + raw_body
    digest = hmac.new(secret_token.encode(), message, hashlib.sha256).hexdigest()
    return f"v0={digest}"


def is_valid_webhook_signature(
    secret_token: str, timestamp: str, raw_body: bytes, signature: str
) -> bool:
    """Constant-time check of a received signature against the raw body bytes."""
    expected = webhook_signature(secret_token, timestamp, raw_body)
    return hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace"))


def url_validation_response(secret_token: str, plain_token: str) -> dict[str, str]:
    """The answer to `endpoint.url_validation`."""
    encrypted = hmac.new(secret_token.encode(), plain_token.encode(), hashlib.sha256).hexdigest()
    return {"plainToken": plain_token, "encryptedToken": encrypted}
