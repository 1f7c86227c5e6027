"""Admin of share links and their openings: read-only records, like the meetings' own.

Neither the token (never kept) nor its hash is shown. A link is revoked by the meeting's host
on the meeting page (staff may too); it goes with its meeting, so the admin deletes nothing.
Registered from assistant/admin.py.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from assistant.models import ShareLink, ShareLinkOpening


class _Unchangeable:
    """Lists and shows; never adds, changes or deletes."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ShareLinkOpeningInline(_Unchangeable, admin.TabularInline):
    model = ShareLinkOpening
    fields = ("at", "client_address", "user_agent")
    readonly_fields = fields
    extra = 0
    show_change_link = False


@admin.register(ShareLink)
class ShareLinkAdmin(_Unchangeable, admin.ModelAdmin):
    list_display = (
        "__str__",
        "meeting",
        "created_by",
        "created_at",
        "expires_at",
        "revoked_at",
        "open_count",
        "last_opened_at",
    )
    list_filter = (("revoked_at", admin.EmptyFieldListFilter),)
    search_fields = ("=meeting__id", "meeting__topic", "created_by__username")
    list_select_related = ("meeting", "created_by")
    readonly_fields = (
        "meeting",
        "created_by",
        "created_at",
        "expires_at",
        "revoked_at",
        "revoked_by",
        "open_count",
        "last_opened_at",
    )
    fields = readonly_fields
    inlines = (ShareLinkOpeningInline,)


@admin.register(ShareLinkOpening)
class ShareLinkOpeningAdmin(_Unchangeable, admin.ModelAdmin):
    list_display = ("link", "at", "client_address", "user_agent")
    search_fields = ("=link__id", "client_address")
    list_select_related = ("link",)
    readonly_fields = ("link", "at", "client_address", "user_agent")
    fields = readonly_fields
