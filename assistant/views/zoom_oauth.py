"""Zoom sign-in: the web install flow and the panel's in-client authorize, both PKCE S256.

The state is required, single-use, short-lived and bound to the session (zoomapp/pkce.py).
A successful install signs the browser in as the linked site user.
"""

from __future__ import annotations

import json
import logging

from django.conf import settings
from django.contrib.auth import login
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from assistant.services import second_factor, zoom_accounts, zoom_grants
from assistant.zoomapp import client, pkce
from assistant.zoomapp.client import ZoomError

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 8 * 1024


def _signed_in(request: HttpRequest) -> User | None:
    user = request.user
    return user if isinstance(user, User) and user.is_active else None


def _complete(request: HttpRequest, code: str, state: str | None, redirect_uri: str) -> User:
    """Check the state, trade the code, link the Zoom user and sign the browser in."""
    verifier = pkce.finish(request.session, state, settings.ZOOM_OAUTH_STATE_TTL_S)
    tokens = client.exchange_code(code=code, redirect_uri=redirect_uri, code_verifier=verifier)
    me = client.users_me(tokens.access_token)
    user = zoom_accounts.install(me, signed_in=_signed_in(request))
    # Kept sealed: the dashboard starts, pauses, resumes and stops RTMS as this host.
    zoom_grants.store(user, str(me["id"]), tokens)
    # Staff under STAFF_2FA sign in with their code on /login/: Zoom is not their second factor.
    if not second_factor.required_for(user):
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    return user


@never_cache
@require_GET
def install(request: HttpRequest) -> HttpResponse:
    """GET /zoomapp/install: off to Zoom's consent page (the web install flow)."""
    pending = pkce.begin(request.session)
    return redirect(
        client.authorize_url(
            state=pending.state,
            code_challenge=pending.code_challenge,
            redirect_uri=settings.ZOOM_OAUTH_REDIRECT_URL,
        )
    )


@never_cache
@require_GET
def callback(request: HttpRequest) -> HttpResponse:
    """GET /zoomapp/oauth/callback?code=&state=: Zoom sends the browser back here."""
    code = request.GET.get("code", "")
    if not code:
        return render(request, "zoomapp/install_failed.html", status=400)
    try:
        _complete(request, code, request.GET.get("state"), settings.ZOOM_OAUTH_REDIRECT_URL)
    except pkce.StateError as exc:
        log.info("zoom oauth: callback refused (%s)", exc)
        return render(request, "zoomapp/install_failed.html", status=403)
    except ZoomError as exc:
        log.warning("zoom oauth: install failed (%s)", exc)
        return render(request, "zoomapp/install_failed.html", status=502)
    return redirect("meeting-list")


@never_cache
@require_POST
def authorize_start(request: HttpRequest) -> HttpResponse:
    """POST /zoomapp/authorize: state and code challenge for the SDK's authorize()."""
    pending = pkce.begin(request.session)
    return JsonResponse({"state": pending.state, "codeChallenge": pending.code_challenge})


@never_cache
@require_POST
def authorized(request: HttpRequest) -> HttpResponse:
    """POST /zoomapp/authorized {code, state, redirectUri}: what onAuthorized reported."""
    if len(request.body) > MAX_BODY_BYTES:
        return JsonResponse({"error": "Body too large."}, status=413)
    try:
        body = json.loads(request.body)
    except (ValueError, UnicodeDecodeError):
        body = None
    if not isinstance(body, dict) or not isinstance(body.get("code"), str):
        return JsonResponse({"error": "Send {code, state, redirectUri}."}, status=400)
    # Only our own redirect URL (the OAuth allow list), never one the page makes up.
    if body.get("redirectUri") != settings.ZOOM_OAUTH_REDIRECT_URL:
        return JsonResponse({"error": "Unexpected redirect URI."}, status=400)
    state = body.get("state") if isinstance(body.get("state"), str) else None
    try:
        user = _complete(request, body["code"], state, settings.ZOOM_OAUTH_REDIRECT_URL)
    except pkce.StateError as exc:
        log.info("zoom oauth: in-client authorize refused (%s)", exc)
        return JsonResponse({"error": "Authorization expired: try again."}, status=403)
    except ZoomError as exc:
        log.warning("zoom oauth: in-client authorize failed (%s)", exc)
        return JsonResponse({"error": "Zoom did not accept the authorization."}, status=502)
    return JsonResponse({"user": user.get_username()})
