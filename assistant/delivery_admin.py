"""Admin of the notes deliveries: targets (the site's and hosts'), and the delivery log.

A target's URL and signing secret are write-only here: typed in, sealed, never shown again
(the URL's host is). Deliveries and their attempts are a read-only log. Registered by
assistant.admin, which Django's admin discovers.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from assistant.models import Delivery, DeliveryAttempt, DeliveryTarget
from assistant.services.deliveries import targets

Kind = DeliveryTarget.Kind


class DeliveryTargetForm(forms.ModelForm):
    """The target's fields, with its URL and secret typed in clear and sealed on save."""

    url = forms.CharField(
        required=False,
        max_length=targets.URL_MAX_CHARS,
        widget=forms.TextInput(attrs={"autocomplete": "off", "size": 80}),
        help_text="Webhook or Slack incoming-webhook URL (https). Never shown again; "
        "leave blank to keep the one stored.",
    )
    secret = forms.CharField(
        required=False,
        max_length=targets.SECRET_MAX_CHARS,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Webhook signing secret (16 characters or more, e.g. `openssl rand -hex 32`). "
        "Never shown again; leave blank to keep the one stored.",
    )

    class Meta:
        model = DeliveryTarget
        fields = ("name", "kind", "owner", "enabled", "recipients")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        kind = data.get("kind")
        adding = self.instance.pk is None
        changed_kind = not adding and kind != self.instance.kind
        try:
            if kind == Kind.EMAIL:
                data["recipients"] = "\n".join(targets.recipients_of(data.get("recipients", "")))
            elif kind in (Kind.WEBHOOK, Kind.SLACK):
                if data.get("url") or adding or changed_kind:
                    data["url"] = targets.check_url(kind, data.get("url", ""))
                if kind == Kind.WEBHOOK and (data.get("secret") or adding or changed_kind):
                    targets.check_secret(data.get("secret", "").strip())
        except targets.TargetError as exc:
            self.add_error(exc.field if exc.field in self.fields else None, str(exc))
        return data

    def save(self, commit: bool = True) -> DeliveryTarget:
        target = super().save(commit=False)
        if self.cleaned_data.get("url"):
            targets.set_url(target, self.cleaned_data["url"])
        if self.cleaned_data.get("secret"):
            targets.set_secret(target, self.cleaned_data["secret"].strip())
        if target.kind == Kind.EMAIL:
            targets.set_url(target, "")
            targets.set_secret(target, "")
        if target.kind != Kind.WEBHOOK:
            targets.set_secret(target, "")
        if commit:
            target.save()
        return target


@admin.register(DeliveryTarget)
class DeliveryTargetAdmin(admin.ModelAdmin):
    """Targets: no owner sends every meeting's notes there; an owner, that host's meetings'."""

    form = DeliveryTargetForm
    list_display = ("name", "kind", "scope", "url_host", "enabled", "created_at")
    list_filter = ("kind", "enabled")
    search_fields = ("name", "owner__username", "url_host")
    list_select_related = ("owner",)
    raw_id_fields = ("owner",)
    readonly_fields = ("url_host", "created_at")
    fields = ("name", "kind", "owner", "enabled", "url", "url_host", "secret", "recipients")

    @admin.display(description="for")
    def scope(self, obj: DeliveryTarget) -> str:
        return obj.owner.get_username() if obj.owner else "every meeting (site)"


class DeliveryAttemptInline(admin.TabularInline):
    model = DeliveryAttempt
    fields = ("number", "at", "status_code", "error", "duration_ms")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    """The delivery log: each delivery and every attempt it took (time, answer, duration)."""

    list_display = (
        "meeting",
        "target",
        "trigger",
        "state",
        "attempts",
        "error",
        "created_at",
        "sent_at",
    )
    list_filter = ("state", "trigger", "target__kind")
    search_fields = ("=meeting__id", "target__name", "=delivery_id")
    list_select_related = ("meeting", "target")
    readonly_fields = (
        "meeting",
        "target",
        "trigger",
        "requested_by",
        "notes_version",
        "delivery_id",
        "state",
        "attempts",
        "error",
        "created_at",
        "sent_at",
    )
    fields = readonly_fields
    inlines = (DeliveryAttemptInline,)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
