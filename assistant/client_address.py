"""The client's network address, for sign-in throttling: the peer, or what trusted proxies saw.

X-Forwarded-For is read only when TRUSTED_PROXY_COUNT says proxies stand in front of daphne:
otherwise anyone could name a fresh address per request and never be throttled. Each trusted
proxy appends the address it received the request from, so the client is the entry that many
places from the right; whatever sits left of it was written by the client and is ignored.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def client_address(request: HttpRequest) -> str | None:
    """The address sign-in attempts are counted against (axes' AXES_CLIENT_IP_CALLABLE)."""
    peer: str | None = request.META.get("REMOTE_ADDR")
    hops = settings.TRUSTED_PROXY_COUNT
    if hops <= 0:
        return peer
    header = request.META.get("HTTP_X_FORWARDED_FOR", "")
    chain = [part.strip() for part in header.split(",") if part.strip()]
    # Fewer entries than proxies: the request skipped a proxy; its peer is all we know.
    return chain[-hops] if len(chain) >= hops else peer
