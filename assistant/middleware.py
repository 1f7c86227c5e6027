"""Response headers the Zoom client and browsers need on every page.

SecurityMiddleware adds HSTS (on HTTPS, including behind a proxy that sets
SECURE_PROXY_SSL_HEADER), nosniff and Referrer-Policy; this adds the Content-Security-Policy,
with a fresh nonce per request for the page's own <script> tags (no 'unsafe-inline').
"""

from __future__ import annotations

import functools
import secrets
from collections.abc import Callable, Iterable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

View = Callable[..., HttpResponse]
# Directives that take the request's nonce: scripts and styles the page itself declares.
_NONCE_DIRECTIVES = ("script-src", "style-src")


def _directives(policy: str) -> dict[str, list[str]]:
    parsed: dict[str, list[str]] = {}
    for part in policy.split(";"):
        words = part.split()
        if words:
            parsed.setdefault(words[0].lower(), words[1:])
    return parsed


def build_policy(policy: str, nonce: str, frame_ancestors: Iterable[str] | None = None) -> str:
    """The configured policy with the nonce added and, when given, frame-ancestors replaced."""
    directives = _directives(policy)
    for name in _NONCE_DIRECTIVES:
        if name in directives:
            directives[name] = [*directives[name], f"'nonce-{nonce}'"]
    if frame_ancestors is not None:
        directives["frame-ancestors"] = list(frame_ancestors)
    return "; ".join(" ".join([name, *sources]) for name, sources in directives.items())


class ContentSecurityPolicyMiddleware:
    """Adds the configured Content-Security-Policy, with this request's nonce, to responses."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        nonce = secrets.token_urlsafe(18)
        request.csp_nonce = nonce  # type: ignore[attr-defined]
        response = self.get_response(request)
        policy = settings.CONTENT_SECURITY_POLICY
        if policy and "Content-Security-Policy" not in response:
            ancestors: list[str] | None = getattr(response, "csp_frame_ancestors", None)
            response["Content-Security-Policy"] = build_policy(policy, nonce, ancestors)
        return response


def framed_by(sources: Callable[[], Iterable[str]]) -> Callable[[View], View]:
    """Let a view's pages be framed by the CSP sources `sources()` names (no X-Frame-Options).

    X-Frame-Options cannot name an allow-list, and CSP frame-ancestors supersedes it in every
    browser that supports CSP, so a page framed by a named host carries frame-ancestors only.
    """

    def decorate(view: View) -> View:
        @functools.wraps(view)
        def framed(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
            response = view(request, *args, **kwargs)
            response.csp_frame_ancestors = list(sources())  # type: ignore[attr-defined]
            response.xframe_options_exempt = True
            return response

        return framed

    return decorate
