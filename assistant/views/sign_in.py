"""The page a locked-out sign-in gets: the login form, saying why and until when (429).

django-axes calls `locked_out` (AXES_LOCKOUT_CALLABLE) for the site's login and the admin's.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.db.models import Max, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from assistant.client_address import client_address


def locked_out(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    """429 with the sign-in page, the reason, the time to try again and Retry-After."""
    username = request.POST.get("username", "")
    until = _locked_until(username, client_address(request))
    seconds = max(1, math.ceil((until - timezone.now()).total_seconds()))
    form = AuthenticationForm(request, initial={"username": username})
    context = {
        "form": form,
        "locked_until": until,
        "locked_minutes": math.ceil(seconds / 60),
        "next": request.POST.get("next", ""),
    }
    response = render(request, "registration/login.html", context, status=429)
    response["Retry-After"] = str(seconds)
    return response


def _locked_until(username: str, address: str | None) -> datetime:
    """The cool-off's end: LOGIN_COOLOFF_MINUTES after the last failure of the name or address."""
    attempts = AccessAttempt.objects.filter(Q(username=username) | Q(ip_address=address))
    last = attempts.aggregate(last=Max("attempt_time"))["last"] or timezone.now()
    cooloff: datetime = last + settings.AXES_COOLOFF_TIME
    return cooloff
