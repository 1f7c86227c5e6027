"""Signing in: the form (with a staff second factor under STAFF_2FA) and the locked-out page.

django-axes calls `locked_out` (AXES_LOCKOUT_CALLABLE) for the site's login and the admin's:
the login form, saying why and until when (429). Under STAFF_2FA the admin's login sends staff
to the site's, the one form that asks for the code.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from axes.models import AccessAttempt
from django import forms
from django.conf import settings
from django.contrib import admin
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.models import User
from django.db.models import Max, Q
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone

from assistant.client_address import client_address
from assistant.services import second_factor


class SignInForm(AuthenticationForm):
    """User name and password; under STAFF_2FA a staff user also gives an authenticator code."""

    otp_token = forms.CharField(
        required=False,
        max_length=10,
        label="Code from your authenticator app (staff)",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not settings.STAFF_2FA:
            del self.fields["otp_token"]

    def confirm_login_allowed(self, user: User) -> None:
        """After the password: the second factor, when this user owes one."""
        super().confirm_login_allowed(user)
        if not second_factor.required_for(user):
            return
        try:
            device = second_factor.verified_device(user, self.cleaned_data.get("otp_token", ""))
        except second_factor.SecondFactorError as exc:
            raise forms.ValidationError(str(exc), code="second_factor") from None
        # django-otp marks the session verified when the login signal finds this.
        user.otp_device = device  # type: ignore[attr-defined]


def admin_login(request: HttpRequest) -> HttpResponse:
    """/admin/login/: the admin's own, or under STAFF_2FA the site's form (it asks the code)."""
    if not settings.STAFF_2FA:
        return admin.site.login(request)
    target = request.GET.get(REDIRECT_FIELD_NAME) or reverse("admin:index")
    query = urlencode({REDIRECT_FIELD_NAME: target})
    return HttpResponseRedirect(f"{reverse('login')}?{query}")


def locked_out(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    """429 with the sign-in page, the reason, the time to try again and Retry-After."""
    username = request.POST.get("username", "")
    until = _locked_until(username, client_address(request))
    seconds = max(1, math.ceil((until - timezone.now()).total_seconds()))
    form = SignInForm(request, initial={"username": username})
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
