"""The origins this site serves pages from, and the WebSocket gate that trusts only them.

Channels' AllowedHostsOriginValidator derives trust from ALLOWED_HOSTS, which is often `*`
behind a proxy: then any site could open a socket carrying a viewer's cookie (cookies that
the Zoom panel may need as SameSite=None). Here the list is SITE_URL plus
DJANGO_CSRF_TRUSTED_ORIGINS, whatever ALLOWED_HOSTS says.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from channels.security.websocket import WebsocketDenier
from django.conf import settings

_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}
_LOOPBACK = ("127.0.0.1", "localhost", "[::1]")


@dataclass(frozen=True)
class Origin:
    """scheme://host:port, lowercased, with the default port made explicit."""

    scheme: str
    host: str
    port: int

    @classmethod
    def parse(cls, text: str) -> Origin | None:
        """An origin from a URL or an Origin header; None when it is not one (`null`, junk)."""
        try:
            parts = urlsplit(text.strip())
            port = parts.port
        except ValueError:
            return None
        scheme = parts.scheme.lower()
        if scheme not in _DEFAULT_PORTS or not parts.hostname:
            return None
        host = parts.hostname.lower()
        if ":" in host:
            host = f"[{host}]"
        return cls(scheme, host, port if port is not None else _DEFAULT_PORTS[scheme])


def _pattern_matches(pattern: str, origin: Origin) -> bool:
    """CSRF_TRUSTED_ORIGINS syntax: an origin, or `scheme://*.domain` for its subdomains."""
    if "://*." in pattern:
        scheme, _, domain = pattern.partition("://*.")
        allowed = Origin.parse(f"{scheme}://{domain}")
        return bool(
            allowed
            and origin.scheme == allowed.scheme
            and origin.port == allowed.port
            and origin.host.endswith("." + allowed.host)
        )
    return Origin.parse(pattern) == origin


def trusted_patterns() -> list[str]:
    """SITE_URL (with its loopback aliases when it is local) and the CSRF trusted origins."""
    patterns = [settings.SITE_URL, *settings.CSRF_TRUSTED_ORIGINS]
    site = Origin.parse(settings.SITE_URL)
    if site is not None and site.host in _LOOPBACK:
        # A laptop reaches the same server as localhost, 127.0.0.1 or [::1].
        patterns += [f"{site.scheme}://{host}:{site.port}" for host in _LOOPBACK]
    return patterns


def is_trusted(origin_header: str, patterns: Iterable[str] | None = None) -> bool:
    """Whether a browser Origin header names one of our own origins."""
    origin = Origin.parse(origin_header)
    if origin is None:
        return False
    return any(
        _pattern_matches(p, origin) for p in (trusted_patterns() if patterns is None else patterns)
    )


class TrustedOriginValidator:
    """ASGI middleware: a WebSocket whose Origin is not ours is refused before the handshake."""

    def __init__(self, application: Any) -> None:
        self.application = application

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        if scope["type"] == "websocket":
            headers = dict(scope.get("headers", []))
            origin = headers.get(b"origin", b"").decode("latin-1")
            if not is_trusted(origin):
                return await WebsocketDenier()(scope, receive, send)
        return await self.application(scope, receive, send)
