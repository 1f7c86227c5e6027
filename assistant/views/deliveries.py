"""A host's delivery targets (/settings/deliveries/) and a meeting's "Send notes again".

A host sees, adds and deletes only their own targets (the site's are staff's, in the admin).
Sending again is for the meeting's host, or staff. Every write is a CSRF-checked POST.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseForbidden
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from assistant.models import DeliveryTarget
from assistant.services import access
from assistant.services.deliveries import scheduling, targets

Kind = DeliveryTarget.Kind


class TargetForm(forms.Form):
    """A new target as a host types it."""

    kind = forms.ChoiceField(choices=Kind.choices, initial=Kind.WEBHOOK)
    name = forms.CharField(max_length=100)
    url = forms.CharField(max_length=targets.URL_MAX_CHARS, required=False)
    secret = forms.CharField(
        max_length=targets.SECRET_MAX_CHARS,
        required=False,
        widget=forms.PasswordInput(render_value=False),
    )
    recipients = forms.CharField(max_length=4000, required=False, widget=forms.Textarea)

    def target_input(self) -> targets.TargetInput | None:
        """The checked input, or None with the form's errors set."""
        if not self.is_valid():
            return None
        data = self.cleaned_data
        raw = targets.TargetInput(
            data["kind"], data["name"], data["url"], data["secret"], data["recipients"]
        )
        try:
            return targets.check(raw)
        except targets.TargetError as exc:
            self.add_error(exc.field if exc.field in self.fields else None, str(exc))
            return None


def _signed_in(request: HttpRequest) -> User:
    assert isinstance(request.user, User)  # login_required
    return request.user


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def delivery_settings(request: HttpRequest) -> HttpResponse:
    """The user's own targets, and a form to add one."""
    user = _signed_in(request)
    form = TargetForm(request.POST or None)
    if request.method == "POST":
        data = form.target_input()
        if data is not None:
            target = targets.create(user, data)
            messages.success(request, f"Added “{target.name}”.")
            return redirect("delivery-settings")
    context = {
        "targets": [(t, targets.where(t)) for t in targets.own_targets(user)],
        "form": form,
        "kinds": Kind.choices,
    }
    return render(request, "deliveries/settings.html", context, status=400 if form.errors else 200)


@login_required
@require_POST
def delete_target(request: HttpRequest, target_id: int) -> HttpResponse:
    """Delete one of the user's own targets (anyone else's is not found)."""
    if not targets.delete_own(_signed_in(request), target_id):
        raise Http404("No such target.")
    messages.success(request, "Target deleted.")
    return redirect("delivery-settings")


@login_required
@require_POST
def send_again(request: HttpRequest, meeting_id: int) -> HttpResponse:
    """Send a finished meeting's notes to its targets again (its host, or staff)."""
    meeting = get_object_or_404(
        access.visible_meetings(access.Viewer.from_request(request)), pk=meeting_id
    )
    if not access.is_host_of(request.user, meeting):
        return HttpResponseForbidden("Only the meeting's host may send its notes.")
    try:
        queued = scheduling.send_again(meeting, _signed_in(request))
    except scheduling.NotReady as exc:
        messages.error(request, str(exc))
    else:
        if queued:
            messages.success(request, f"Sending the notes to {queued} target(s).")
        else:
            messages.info(
                request, "Nothing to send: the notes are being sent, or were sent a moment ago."
            )
    return redirect("meeting-detail", meeting_id=meeting.pk)
