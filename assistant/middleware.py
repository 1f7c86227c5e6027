"""Response headers the Zoom client and browsers need on every page; static files, async-native;
and, with STAFF_2FA, no staff session without its second factor.

SecurityMiddleware adds HSTS (on HTTPS, including behind a proxy that sets
SECURE_PROXY_SSL_HEADER), nosniff and Referrer-Policy; this adds the Content-Security-Policy,
with a fresh nonce per request for the page's own <script> tags (no 'unsafe-inline').

Both middlewares here run natively on async requests: a sync-only middleware in the chain makes
Django hop between the event loop and a thread twice per request, for every request.
"""

from __future__ import annotations

import functools
import secrets
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.conf import settings
from django.contrib.auth import alogout, logout
from django.http import HttpRequest, HttpResponse
from whitenoise.middleware import WhiteNoiseMiddleware

from assistant.services import second_factor

Handler = Callable[[HttpRequest], Any]
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

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response
        self._async = iscoroutinefunction(get_response)
        if self._async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        nonce = _new_nonce(request)
        if self._async:
            return self._acall(request, nonce)
        return _with_policy(self.get_response(request), nonce)

    async def _acall(self, request: HttpRequest, nonce: str) -> HttpResponse:
        response: Awaitable[HttpResponse] = self.get_response(request)
        return _with_policy(await response, nonce)


def _new_nonce(request: HttpRequest) -> str:
    nonce = secrets.token_urlsafe(18)
    request.csp_nonce = nonce  # type: ignore[attr-defined]
    return nonce


def _with_policy(response: HttpResponse, nonce: str) -> HttpResponse:
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


class AsyncWhiteNoiseMiddleware(WhiteNoiseMiddleware):
    """WhiteNoise that passes non-static async requests straight on, without a thread hop.

    WhiteNoise 6 is sync-only; its lookup of a static path is a dict read (or a file-system
    look when autorefresh is on, in development), and only serving a file goes to a thread.
    """

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Handler) -> None:
        super().__init__(get_response)
        self._async = iscoroutinefunction(get_response)
        if self._async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        if self._async:
            return self._acall(request)
        return super().__call__(request)

    async def _acall(self, request: HttpRequest) -> Any:
        if self.autorefresh:
            static_file = await sync_to_async(self.find_file)(request.path_info)
        else:
            static_file = self.files.get(request.path_info)
        if static_file is not None:
            return await sync_to_async(self.serve)(static_file, request)
        return await self.get_response(request)


class StaffSecondFactorMiddleware:
    """With STAFF_2FA, a staff session no second factor verified is signed out before the view.

    Such a session predates the setting, or its user was made staff while signed in. Nothing is
    read when STAFF_2FA is off. After django-otp's OTPMiddleware.
    """

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response
        self._is_async = iscoroutinefunction(get_response)
        if self._is_async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        if self._is_async:
            return self._acall(request)
        if settings.STAFF_2FA and _unverified_staff(request.user, request):
            logout(request)
        return self.get_response(request)

    async def _acall(self, request: HttpRequest) -> HttpResponse:
        if settings.STAFF_2FA and _unverified_staff(await request.auser(), request):
            await alogout(request)
        response: HttpResponse = await self.get_response(request)
        return response


def _unverified_staff(user: Any, request: HttpRequest) -> bool:
    # The session is loaded already: the user was just read from it.
    return second_factor.required_for(user) and not second_factor.session_is_verified(
        request.session
    )
