"""Admin: meetings and what was captured from them are read-only records; Zoom links are editable.

Captured data is evidence of what was said, so the admin never edits it; deleting a meeting
(which cascades) stays possible for retention requests. Webhook bodies are not shown.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from assistant.models import (
    ChatMessage,
    ConnectionLogEntry,
    LiveEvent,
    Meeting,
    Participant,
    TranscriptSegment,
    WebhookDelivery,
    ZoomUserLink,
)


class ReadOnlyMixin:
    """No adding or changing; the view permission still lets staff look."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """A model admin that only lists and shows."""


class ParticipantInline(ReadOnlyMixin, admin.TabularInline):
    model = Participant
    fields = ("name", "zoom_user_id", "is_present", "joined_at_ms", "left_at_ms")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False


class ConnectionLogInline(ReadOnlyMixin, admin.TabularInline):
    model = ConnectionLogEntry
    fields = ("at", "kind", "state", "reason", "detail")
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(Meeting)
class MeetingAdmin(ReadOnlyAdmin):
    list_display = ("__str__", "product", "state", "owner", "started_at", "ended_at")
    list_filter = ("state", "product")
    search_fields = ("topic", "zoom_id", "rtms_stream_id")
    date_hierarchy = "created_at"
    list_select_related = ("owner",)
    readonly_fields = (
        "topic",
        "product",
        "state",
        "owner",
        "operator_id",
        "zoom_id",
        "rtms_stream_id",
        "stop_reason",
        "created_at",
        "started_at",
        "ended_at",
        "last_seq",
    )
    fields = readonly_fields
    inlines = (ParticipantInline, ConnectionLogInline)


@admin.register(TranscriptSegment)
class TranscriptSegmentAdmin(ReadOnlyAdmin):
    list_display = ("meeting", "seq", "speaker_name", "start_ms", "source", "short_text")
    list_filter = ("source",)
    search_fields = ("text", "speaker_name")
    list_select_related = ("meeting",)
    raw_id_fields = ("meeting",)
    readonly_fields = (
        "meeting",
        "seq",
        "source",
        "speaker_name",
        "speaker_user_id",
        "start_ms",
        "end_ms",
        "language",
        "text",
        "created_at",
    )
    fields = readonly_fields

    @admin.display(description="text")
    def short_text(self, obj: TranscriptSegment) -> str:
        return obj.text[:80]


@admin.register(ChatMessage)
class ChatMessageAdmin(ReadOnlyAdmin):
    list_display = ("meeting", "seq", "sender_name", "sent_at_ms", "short_text")
    search_fields = ("text", "sender_name")
    list_select_related = ("meeting",)
    readonly_fields = ("meeting", "seq", "sender_name", "sender_user_id", "sent_at_ms", "text")
    fields = readonly_fields

    @admin.display(description="text")
    def short_text(self, obj: ChatMessage) -> str:
        return obj.text[:80]


@admin.register(ConnectionLogEntry)
class ConnectionLogEntryAdmin(ReadOnlyAdmin):
    list_display = ("meeting", "at", "kind", "state", "reason", "detail")
    list_filter = ("kind",)
    list_select_related = ("meeting",)
    readonly_fields = ("meeting", "at", "kind", "state", "reason", "detail")
    fields = readonly_fields


@admin.register(LiveEvent)
class LiveEventAdmin(ReadOnlyAdmin):
    list_display = ("meeting", "seq", "type", "created_at")
    list_filter = ("type",)
    list_select_related = ("meeting",)
    readonly_fields = ("meeting", "seq", "type", "payload", "created_at")
    fields = readonly_fields


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    # The payload is left out: Zoom's docs ask that webhook bodies are not put on display.
    list_display = ("event", "rtms_stream_id", "event_ts", "received_at")
    list_filter = ("event",)
    search_fields = ("rtms_stream_id",)
    readonly_fields = ("event", "rtms_stream_id", "event_ts", "received_at")
    fields = readonly_fields


@admin.register(ZoomUserLink)
class ZoomUserLinkAdmin(admin.ModelAdmin):
    list_display = ("user", "zoom_user_id")
    search_fields = ("user__username", "zoom_user_id")
    raw_id_fields = ("user",)
