"""Admin: meetings and what was captured from them are read-only records; Zoom links are editable.

Captured data is evidence of what was said, so the admin never edits it; staff may set a
meeting's legal hold, and deleting a meeting goes through services.meeting_deletion (audited,
refused on hold). Webhook bodies, the notes engine's state and lock tokens are not shown.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.http import HttpRequest

from assistant import share_admin  # noqa: F401  (registers share links and their openings)
from assistant.models import (
    ActionItem,
    ChatMessage,
    ConnectionLogEntry,
    Decision,
    LiveEvent,
    Meeting,
    MeetingDeletion,
    MeetingNotes,
    Participant,
    TranscriptSegment,
    WebhookDelivery,
    ZoomUserLink,
)
from assistant.services import meeting_deletion, transcripts_query
from assistant.views import presenters


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


class GapSpanMixin:
    """Shows a gap's range in meeting time (as the captions count it) and the frames it lost."""

    @admin.display(description="data lost")
    def gap_span(self, entry: ConnectionLogEntry) -> str:
        if entry.kind != ConnectionLogEntry.Kind.GAP:
            return ""
        origin = presenters.clock_origin(transcripts_query.first_segment_start(entry.meeting_id))
        return presenters.gap_label(entry.from_ms, entry.to_ms, entry.frames_lost, origin)


class ConnectionLogInline(GapSpanMixin, ReadOnlyMixin, admin.TabularInline):
    model = ConnectionLogEntry
    fields = ("at", "kind", "state", "reason", "detail", "gap_span")
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(Meeting)
class MeetingAdmin(admin.ModelAdmin):
    """Read-only but for the legal hold; deleting goes through services.meeting_deletion."""

    list_display = ("__str__", "product", "state", "owner", "started_at", "ended_at", "legal_hold")
    list_filter = ("state", "product", "legal_hold", "transcription")
    search_fields = ("topic", "zoom_id", "rtms_stream_id", "owner__username")
    date_hierarchy = "created_at"
    list_select_related = ("owner",)
    show_full_result_count = False
    readonly_fields = (
        "topic",
        "product",
        "state",
        "owner",
        "operator_id",
        "operator_is_original_host",
        "zoom_id",
        "meeting_number",
        "zoom_account_id",
        "rtms_stream_id",
        "transcription",
        "asr_language",
        "stop_reason",
        "created_at",
        "started_at",
        "ended_at",
        "last_seq",
    )
    fields = ("legal_hold", *readonly_fields)
    inlines = (ParticipantInline, ConnectionLogInline)
    actions = ("place_on_hold", "release_hold")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description="Place on legal hold (kept past retention, not deletable)")
    def place_on_hold(self, request: HttpRequest, queryset: QuerySet[Meeting]) -> None:
        self.message_user(request, f"{queryset.update(legal_hold=True)} meetings on hold.")

    @admin.action(description="Release legal hold")
    def release_hold(self, request: HttpRequest, queryset: QuerySet[Meeting]) -> None:
        self.message_user(request, f"{queryset.update(legal_hold=False)} meetings released.")

    def delete_model(self, request: HttpRequest, obj: Meeting) -> None:
        self._delete(request, [obj.pk])

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Meeting]) -> None:
        self._delete(request, list(queryset.values_list("pk", flat=True)))

    def _delete(self, request: HttpRequest, ids: list[int]) -> None:
        actor = request.user if isinstance(request.user, User) else None
        for meeting_id in ids:
            try:
                meeting_deletion.delete_meeting(meeting_id, MeetingDeletion.Reason.STAFF, actor)
            except meeting_deletion.DeletionRefused as exc:
                self.message_user(request, f"Meeting {meeting_id} kept: {exc}", messages.WARNING)


@admin.register(Participant)
class ParticipantAdmin(ReadOnlyAdmin):
    list_display = ("name", "meeting", "zoom_user_id", "is_present", "joined_at_ms", "left_at_ms")
    list_filter = ("is_present",)
    search_fields = ("name", "=zoom_user_id")
    list_select_related = ("meeting",)
    raw_id_fields = ("meeting",)
    readonly_fields = (
        "meeting",
        "name",
        "zoom_user_id",
        "is_present",
        "joined_at_ms",
        "left_at_ms",
    )
    fields = readonly_fields


@admin.register(MeetingDeletion)
class MeetingDeletionAdmin(ReadOnlyAdmin):
    """The audit of deleted meetings: kept, never edited or deleted here."""

    list_display = ("meeting_id", "reason", "actor", "deleted_at", "started_at", "owner_id")
    list_filter = ("reason",)
    search_fields = ("=meeting_id",)
    readonly_fields = (
        "meeting_id",
        "owner_id",
        "started_at",
        "ended_at",
        "reason",
        "actor",
        "deleted_at",
        "counts",
    )
    fields = readonly_fields

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(MeetingNotes)
class MeetingNotesAdmin(ReadOnlyAdmin):
    # The engine's working state and the update lock are internals, not notes.
    list_display = ("meeting", "engine", "status", "is_final", "version", "updated_at")
    list_filter = ("engine", "status", "is_final")
    search_fields = ("title", "summary")
    list_select_related = ("meeting",)
    raw_id_fields = ("meeting",)
    readonly_fields = (
        "meeting",
        "engine",
        "status",
        "status_detail",
        "is_final",
        "title",
        "summary",
        "key_points",
        "open_questions",
        "version",
        "updated_at",
    )
    fields = readonly_fields


@admin.register(Decision)
class DecisionAdmin(ReadOnlyAdmin):
    list_display = ("meeting", "short_text", "edited_by_host", "updated_at")
    list_filter = ("edited_by_host",)
    search_fields = ("text",)
    list_select_related = ("meeting",)
    readonly_fields = ("meeting", "text", "segment_ids", "edited_by_host", "created_at")
    fields = readonly_fields

    @admin.display(description="text")
    def short_text(self, obj: Decision) -> str:
        return obj.text[:80]


@admin.register(ActionItem)
class ActionItemAdmin(ReadOnlyAdmin):
    list_display = ("meeting", "short_text", "owner", "due_date", "done", "edited_by_host")
    list_filter = ("done", "edited_by_host")
    search_fields = ("text", "owner")
    list_select_related = ("meeting",)
    readonly_fields = (
        "meeting",
        "text",
        "owner",
        "due_text",
        "due_date",
        "done",
        "segment_ids",
        "edited_by_host",
        "edited_by",
        "created_at",
        "updated_at",
    )
    fields = readonly_fields

    @admin.display(description="text")
    def short_text(self, obj: ActionItem) -> str:
        return obj.text[:80]


@admin.register(TranscriptSegment)
class TranscriptSegmentAdmin(ReadOnlyAdmin):
    list_display = ("meeting", "seq", "speaker_name", "start_ms", "source", "final", "short_text")
    list_filter = ("source", "final")
    # Millions of rows: no full count on every page, search by meeting id first.
    show_full_result_count = False
    search_fields = ("=meeting__id", "speaker_name", "text")
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
class ConnectionLogEntryAdmin(GapSpanMixin, ReadOnlyAdmin):
    list_display = ("meeting", "at", "kind", "state", "reason", "detail", "frames_lost")
    list_filter = ("kind",)
    list_select_related = ("meeting",)
    readonly_fields = (
        "meeting",
        "at",
        "kind",
        "state",
        "reason",
        "detail",
        "gap_span",
        "from_ms",
        "to_ms",
        "frames_lost",
    )
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


class ZoomUserLinkInline(admin.StackedInline):
    model = ZoomUserLink
    extra = 0
    max_num = 1


# Users with their Zoom link (Django's user admin never shows the password hash itself).
admin.site.unregister(User)


@admin.register(User)
class UserWithZoomAdmin(UserAdmin):
    inlines = (ZoomUserLinkInline,)
    list_display = ("username", "email", "is_staff", "is_active", "zoom_user_id", "last_login")
    list_select_related = ("zoom_link",)

    @admin.display(description="Zoom user id")
    def zoom_user_id(self, obj: User) -> str:
        link = getattr(obj, "zoom_link", None)
        return link.zoom_user_id if link else ""


@admin.register(ZoomUserLink)
class ZoomUserLinkAdmin(admin.ModelAdmin):
    list_display = ("user", "zoom_user_id")
    search_fields = ("user__username", "zoom_user_id")
    raw_id_fields = ("user",)


# The notes deliveries' targets and log, and the notes templates admins write (modules of their
# own; registered on import).
from assistant import delivery_admin, template_admin  # noqa: E402, F401
