"""What Django's middleware would do for the webhook, done at the ASGI edge without it.

The endpoint skips the middleware chain, so two of its duties that matter for a JSON API are
repeated here, from the same settings: the Host header check against ALLOWED_HOSTS
(`HttpRequest.get_host`, answered 400) and SecurityMiddleware's and XFrameOptionsMiddleware's
response headers (nosniff, Referrer-Policy, Cross-Origin-Opener-Policy, X-Frame-Options, and
HSTS on a secure request).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.http.request import split_domain_port, validate_host

__all__ = ["disallowed_host", "security_headers"]

# Django's own logger for this, so that alerts set on it also cover the webhook.
security_log = logging.getLogger("django.security.DisallowedHost")


def disallowed_host(scope: Mapping[str, Any], headers: Mapping[str, str]) -> str | None:
    """Why the request's host is not acceptable (Django's message), or None if it is."""
    host = _raw_host(scope, headers)
    allowed_hosts = settings.ALLOWED_HOSTS
    if settings.DEBUG and not allowed_hosts:
        allowed_hosts = [".localhost", "127.0.0.1", "[::1]"]
    domain, _ = split_domain_port(host)
    if domain and validate_host(domain, allowed_hosts):
        return None
    if domain:
        return (
            f"Invalid HTTP_HOST header: {host!r}. You may need to add {domain!r} to ALLOWED_HOSTS."
        )
    return (
        f"Invalid HTTP_HOST header: {host!r}. "
        "The domain name provided is not valid according to RFC 1034/1035."
    )


def _raw_host(scope: Mapping[str, Any], headers: Mapping[str, str]) -> str:
    """The host as `HttpRequest._get_raw_host` reads it (headers keyed by lower-case name)."""
    if settings.USE_X_FORWARDED_HOST and "x-forwarded-host" in headers:
        return headers["x-forwarded-host"]
    if "host" in headers:
        return headers["host"]
    name, port = scope.get("server") or ("unknown", None)
    default_port = 443 if _is_secure(scope, headers) else 80
    return str(name) if port in (None, default_port) else f"{name}:{port}"


def _is_secure(scope: Mapping[str, Any], headers: Mapping[str, str]) -> bool:
    """`HttpRequest.is_secure`: the proxy's header when one is configured, else the scheme."""
    proxy_header = getattr(settings, "SECURE_PROXY_SSL_HEADER", None)
    if proxy_header:
        name, secure_value = proxy_header
        value = headers.get(name.removeprefix("HTTP_").replace("_", "-").lower())
        if value is not None:
            return value.split(",", 1)[0].strip() == secure_value
    return scope.get("scheme") == "https"


def security_headers(
    scope: Mapping[str, Any], headers: Mapping[str, str]
) -> list[tuple[bytes, bytes]]:
    """The headers SecurityMiddleware and XFrameOptionsMiddleware would add to this answer."""
    added: list[tuple[bytes, bytes]] = []
    if settings.SECURE_HSTS_SECONDS and _is_secure(scope, headers):
        hsts = f"max-age={settings.SECURE_HSTS_SECONDS}"
        if settings.SECURE_HSTS_INCLUDE_SUBDOMAINS:
            hsts += "; includeSubDomains"
        if settings.SECURE_HSTS_PRELOAD:
            hsts += "; preload"
        added.append((b"strict-transport-security", hsts.encode()))
    if settings.SECURE_CONTENT_TYPE_NOSNIFF:
        added.append((b"x-content-type-options", b"nosniff"))
    referrer_policy = settings.SECURE_REFERRER_POLICY
    if referrer_policy:
        policies = (
            referrer_policy.split(",") if isinstance(referrer_policy, str) else referrer_policy
        )
        value = ",".join(policy.strip() for policy in policies)
        added.append((b"referrer-policy", value.encode()))
    if settings.SECURE_CROSS_ORIGIN_OPENER_POLICY:
        added.append(
            (b"cross-origin-opener-policy", settings.SECURE_CROSS_ORIGIN_OPENER_POLICY.encode())
        )
    added.append((b"x-frame-options", settings.X_FRAME_OPTIONS.upper().encode()))
    return added
