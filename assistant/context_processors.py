"""Template context every page needs."""

from __future__ import annotations

from django.http import HttpRequest


def csp_nonce(request: HttpRequest) -> dict[str, str]:
    """`csp_nonce`: this response's CSP nonce, for the page's <script nonce="..."> tags."""
    return {"csp_nonce": getattr(request, "csp_nonce", "")}
