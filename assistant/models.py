"""Meetings and everything captured from them: participants, transcript, chat, live events."""

from __future__ import annotations

from django.conf import settings
from django.db import models

# Deliveries of final notes live in a module of their own; they are models of this app too.
from assistant.delivery_models import Delivery as Delivery
from assistant.delivery_models import DeliveryAttempt as DeliveryAttempt
from assistant.delivery_models import DeliveryTarget as DeliveryTarget


class Product(models.TextChoices):
    """The Zoom product a stream comes from; it decides which id names the stream's owner."""

    MEETING = "meeting", "Meeting"
    WEBINAR = "webinar", "Webinar"
    VIDEO_SDK = "video_sdk", "Video SDK session"
    CONTACT_CENTER = "contact_center", "Contact Center engagement"


class Transcription(models.TextChoices):
    """Whose transcript a meeting gets: Zoom's, ours (Whisper on the audio), or both."""

    NATIVE = "native", "Zoom's transcript"
    ASR = "asr", "Our speech recognition"
    BOTH = "both", "Both (Zoom's and ours, as two tracks)"


class Track(models.TextChoices):
    """A transcript track: Zoom's own transcript, or our speech recognition of the audio."""

    NATIVE = "native", "Zoom transcript"
    ASR = "asr", "Speech recognition"


class ZoomUserLink(models.Model):
    """Ties a Zoom user id (a webhook's operator_id) to a user of this site."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="zoom_link"
    )
    zoom_user_id = models.CharField(max_length=64, unique=True)

    def __str__(self) -> str:
        return f"{self.user} = zoom:{self.zoom_user_id}"


class Meeting(models.Model):
    """One RTMS stream of a Zoom meeting, webinar, session or engagement."""

    class State(models.TextChoices):
        PENDING = "pending", "Waiting to connect"
        CONNECTING = "connecting", "Connecting"
        LIVE = "live", "Live"
        RECONNECTING = "reconnecting", "Reconnecting"
        ENDED = "ended", "Ended"
        FAILED = "failed", "Failed"

    # After these the stream delivers nothing more (the live page stops reconnecting).
    FINISHED_STATES = frozenset({State.ENDED, State.FAILED})

    product = models.CharField(max_length=20, choices=Product.choices, default=Product.MEETING)
    zoom_id = models.CharField(
        max_length=255, db_index=True, help_text="meeting_uuid, session_id or engagement_id"
    )
    rtms_stream_id = models.CharField(max_length=255, unique=True)
    topic = models.CharField(max_length=300, blank=True)
    operator_id = models.CharField(max_length=64, blank=True)
    # From rtms_started since Zoom's April 2026 release (blank or null when it did not say).
    zoom_account_id = models.CharField(
        max_length=64, blank=True, help_text="the Zoom account of the meeting's host"
    )
    meeting_number = models.BigIntegerField(
        null=True, blank=True, help_text="the numeric meeting (or webinar) id a host dials"
    )
    operator_is_original_host = models.BooleanField(
        null=True,
        blank=True,
        help_text="whether who started the stream is the meeting's original host (not a co-host)",
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="meetings",
    )
    state = models.CharField(max_length=20, choices=State.choices, default=State.PENDING)
    stop_reason = models.IntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    last_seq = models.BigIntegerField(default=0, help_text="last live-event sequence number")
    transcription = models.CharField(
        max_length=8,
        choices=Transcription.choices,
        blank=True,
        help_text="blank: the TRANSCRIPTION setting",
    )
    notes_track = models.CharField(
        max_length=8,
        choices=Track.choices,
        blank=True,
        help_text="the track notes, search and exports read first (when the meeting has it); "
        "blank: the NOTES_TRACK setting",
    )
    notes_template = models.CharField(
        max_length=40,
        blank=True,
        help_text="the notes template its host chose (a built-in's key or an admin template's); "
        "blank: the first whose topic rule matches, else the default",
    )
    record_audio = models.BooleanField(
        null=True,
        blank=True,
        help_text="keep each participant's audio as WAV for re-transcription; "
        "blank: the RECORD_AUDIO setting",
    )
    capture_slides = models.BooleanField(
        null=True,
        blank=True,
        help_text="keep what its screen share shows as slides (with their text); "
        "blank: the SLIDES setting",
    )
    asr_language = models.CharField(
        max_length=16, blank=True, help_text="the language our recogniser locked on"
    )
    language = models.SmallIntegerField(
        null=True,
        blank=True,
        help_text="the language it is spoken in, as Zoom's transcript language id "
        "(-1: detect it; assistant/languages.py); blank: the MEETING_LANGUAGE setting",
    )
    legal_hold = models.BooleanField(
        default=False, help_text="kept past MEETING_RETENTION_DAYS and not deletable while set"
    )
    writer_generation = models.BigIntegerField(
        default=0,
        help_text="the newest ingest lease generation that wrote for this stream; "
        "writes under an older one are refused",
    )
    handed_over_generation = models.BigIntegerField(
        default=0,
        help_text="an older generation whose ingest handed the stream over on purpose: it may "
        "still write what it had read",
    )

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["state", "-created_at"]),
            models.Index(fields=["owner", "-created_at"], name="meeting_owner_created"),
            # The retention sweep: ended meetings by end time.
            models.Index(fields=["ended_at"], name="meeting_ended_at"),
        ]

    def __str__(self) -> str:
        return self.topic or f"{self.get_product_display()} {self.zoom_id}"

    @property
    def is_live(self) -> bool:
        """Whether the stream is still expected to deliver data."""
        return self.state not in self.FINISHED_STATES


class Participant(models.Model):
    """Someone seen in a meeting's RTMS events."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="participants")
    zoom_user_id = models.BigIntegerField()
    name = models.CharField(max_length=300, blank=True)
    # RTMS gives no participant's address today (docs/rtms-protocol): blank unless a source
    # that knows it fills it; final notes are emailed to the addresses known.
    email = models.EmailField(blank=True)
    joined_at_ms = models.BigIntegerField(null=True, blank=True)
    left_at_ms = models.BigIntegerField(null=True, blank=True)
    is_present = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["meeting", "zoom_user_id"], name="uniq_participant")
        ]
        ordering = ["joined_at_ms", "id"]

    def __str__(self) -> str:
        return self.name or str(self.zoom_user_id)


class TranscriptSegment(models.Model):
    """One utterance, from Zoom's native transcript or from our own speech recognition.

    Full-text search lives beside the model, per database (migration 0005_library): on
    PostgreSQL a generated `search_vector` column (english) with a GIN index, on SQLite the FTS5
    table `assistant_segment_fts` kept by triggers. Neither is a model field.
    """

    Source = Track

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="segments")
    seq = models.BigIntegerField(help_text="the meeting's live-event sequence number")
    source = models.CharField(max_length=10, choices=Source.choices)
    speaker_user_id = models.BigIntegerField(null=True, blank=True)
    speaker_name = models.CharField(max_length=300, blank=True)
    start_ms = models.BigIntegerField(help_text="RTMS stream clock")
    end_ms = models.BigIntegerField(help_text="RTMS stream clock")
    text = models.TextField()
    # What Zoom's frame or Whisper reported, as a BCP 47 code ("fr-CA", "en"); "" when neither
    # said (assistant/languages.py).
    language = models.CharField(max_length=16, blank=True)
    dedupe_key = models.CharField(max_length=200, help_text="identical on re-delivery")
    # Our recogniser's text of an utterance still in progress is provisional: later revisions
    # and then the final one replace it in this same row (never a second row beside it).
    final = models.BooleanField(default=True)
    revision = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["meeting", "source", "dedupe_key"], name="uniq_segment_delivery"
            ),
            models.UniqueConstraint(fields=["meeting", "seq"], name="uniq_segment_seq"),
        ]
        # The finished page reads a meeting's transcript a time window at a time.
        indexes = [models.Index(fields=["meeting", "start_ms"], name="segment_meeting_start")]
        ordering = ["meeting", "seq"]

    def __str__(self) -> str:
        return f"{self.speaker_name}: {self.text[:60]}"


class ChatMessage(models.Model):
    """A chat line sent in the meeting.

    Searched like the transcript (migration 0012_primary_track): on PostgreSQL a generated
    `search_vector` column with a GIN index, on SQLite the FTS5 table `assistant_chat_fts` kept
    by triggers. Neither is a model field.
    """

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="chat_messages")
    seq = models.BigIntegerField()
    sender_user_id = models.BigIntegerField(null=True, blank=True)
    sender_name = models.CharField(max_length=300, blank=True)
    sent_at_ms = models.BigIntegerField()
    text = models.TextField()
    dedupe_key = models.CharField(max_length=200)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["meeting", "dedupe_key"], name="uniq_chat_delivery")
        ]
        ordering = ["meeting", "seq"]

    def __str__(self) -> str:
        return f"{self.sender_name}: {self.text[:60]}"


class ConnectionLogEntry(models.Model):
    """A change in a meeting's RTMS connection: state, stop reason, gaps."""

    class Kind(models.TextChoices):
        STATE = "state", "State change"
        GAP = "gap", "Gap in the data"
        STOP = "stop", "Stream stopped"
        ERROR = "error", "Error"

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="connection_log")
    at = models.DateTimeField(auto_now_add=True)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    state = models.CharField(max_length=20, blank=True)
    reason = models.IntegerField(null=True, blank=True)
    detail = models.TextField(blank=True)
    # A gap's place on the stream clock and what it lost; null when unknown (and for states).
    from_ms = models.BigIntegerField(
        null=True, blank=True, help_text="Gap: stream clock of the last data before it"
    )
    to_ms = models.BigIntegerField(
        null=True, blank=True, help_text="Gap: stream clock of the first data after it"
    )
    frames_lost = models.IntegerField(null=True, blank=True, help_text="Gap: media frames lost")

    class Meta:
        ordering = ["meeting", "at", "id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.state} {self.detail}"


class LiveEvent(models.Model):
    """Outbox of everything pushed to viewers, in order, so a reconnecting viewer can catch up."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="live_events")
    seq = models.BigIntegerField()
    type = models.CharField(max_length=20)
    payload = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["meeting", "seq"], name="uniq_live_event_seq")
        ]
        ordering = ["meeting", "seq"]

    def __str__(self) -> str:
        return f"{self.meeting_id}#{self.seq} {self.type}"


class WebhookDelivery(models.Model):
    """A verified Zoom webhook, kept once per delivery so retries and duplicates are ignored."""

    dedupe_key = models.CharField(max_length=300, unique=True)
    event = models.CharField(max_length=100)
    event_ts = models.BigIntegerField(null=True, blank=True)
    rtms_stream_id = models.CharField(max_length=255, blank=True)
    payload = models.JSONField()
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return f"{self.event} {self.rtms_stream_id}"


class MeetingNotes(models.Model):
    """A meeting's AI notes: the latest rolling (or final) summary and how it was made."""

    class Engine(models.TextChoices):
        EXTRACTIVE = "extractive", "Automatic extract"
        LLM = "llm", "Language model"

    class Status(models.TextChoices):
        OK = "ok", "Up to date"
        LLM_UNREACHABLE = "llm_unreachable", "Language model unreachable"
        LLM_INVALID = "llm_invalid", "Language model reply unusable"

    meeting = models.OneToOneField(Meeting, on_delete=models.CASCADE, related_name="notes")
    engine = models.CharField(max_length=20, choices=Engine.choices, default=Engine.EXTRACTIVE)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.OK)
    status_detail = models.CharField(max_length=300, blank=True)
    is_final = models.BooleanField(default=False)
    title = models.CharField(max_length=300, blank=True)
    summary = models.TextField(blank=True)
    key_points = models.JSONField(default=list)
    open_questions = models.JSONField(default=list)
    # The extractive engine's bounded running state (word counts, candidate sentences).
    engine_state = models.JSONField(default=dict)
    # Decisions and action items a host removed ({"kind", "key", "text", "owner"}): an update
    # that proposes one of them again is ignored, so a removed item never comes back.
    removed_items = models.JSONField(default=list, blank=True)
    covered_seq = models.BigIntegerField(default=0, help_text="seq of the last segment included")
    track = models.CharField(
        max_length=10,
        blank=True,
        help_text="the transcript track (a Track value) the notes were built from; "
        "blank: not known yet",
    )
    covered_end_ms = models.BigIntegerField(null=True, blank=True)
    template = models.CharField(
        max_length=40,
        blank=True,
        help_text="the key of the template the notes were built with; blank: the default",
    )
    # The template's sections as written: [{"heading", "items": [{"text", "segment_ids"}],
    # "note"}] (services/notes/draft.py DraftSection).
    sections = models.JSONField(default=list, blank=True)
    version = models.IntegerField(default=0)
    # Set while an update job is queued, so a burst of segments queues one job, not many.
    update_queued = models.BooleanField(default=False)
    # The per-meeting lock: an update holds it until this time (a crashed worker's lock expires).
    locked_until = models.DateTimeField(null=True, blank=True)
    lock_token = models.CharField(max_length=40, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"notes of meeting {self.meeting_id} v{self.version}"


class Decision(models.Model):
    """A decision taken in a meeting, kept as a row so updates refine it instead of replacing it."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="decisions")
    key = models.CharField(max_length=64, help_text="stable across note versions")
    text = models.TextField()
    segment_ids = models.JSONField(default=list, help_text="TranscriptSegment ids it came from")
    edited_by_host = models.BooleanField(default=False)
    position = models.IntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["meeting", "key"], name="uniq_decision_key")]
        ordering = ["meeting", "position", "id"]

    def __str__(self) -> str:
        return self.text[:60]


class ActionItem(models.Model):
    """Something someone is to do after a meeting; a host's edit is never overwritten."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="action_items")
    key = models.CharField(max_length=64, help_text="stable across note versions")
    text = models.TextField()
    owner = models.CharField(max_length=300, blank=True)
    due_text = models.CharField(max_length=100, blank=True, help_text="the due date as said")
    due_date = models.DateField(null=True, blank=True, help_text="due_text parsed, when possible")
    done = models.BooleanField(default=False)
    segment_ids = models.JSONField(default=list, help_text="TranscriptSegment ids it came from")
    edited_by_host = models.BooleanField(default=False)
    edited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    position = models.IntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["meeting", "key"], name="uniq_action_item_key")
        ]
        ordering = ["meeting", "position", "id"]

    def __str__(self) -> str:
        return f"{self.owner}: {self.text[:60]}"


class MeetingDeletion(models.Model):
    """Audit of a deleted meeting: what went, when and why; never any of its content."""

    class Reason(models.TextChoices):
        RETENTION = "retention", "Past MEETING_RETENTION_DAYS"
        HOST = "host", "Deleted by its host"
        STAFF = "staff", "Deleted by staff"
        DEAUTHORIZED = "deauthorized", "Its host removed the Zoom app"

    meeting_id = models.BigIntegerField(help_text="the id the meeting had")
    owner_id = models.BigIntegerField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    reason = models.CharField(max_length=20, choices=Reason.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    deleted_at = models.DateTimeField(auto_now_add=True)
    counts = models.JSONField(default=dict, help_text="rows deleted, by kind")

    class Meta:
        ordering = ["-deleted_at"]

    def __str__(self) -> str:
        return f"meeting {self.meeting_id} deleted ({self.reason})"


class ZoomAppContextUse(models.Model):
    """A Zoom App context already turned into a session: each is accepted once in its lifetime."""

    digest = models.CharField(max_length=64, unique=True, help_text="SHA-256 of the token")
    expires_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"context {self.digest[:12]}… until {self.expires_at:%H:%M:%S}"


class DeauthorizationAudit(models.Model):
    """That a Zoom user removed the app and what was done about it; never any meeting content."""

    zoom_user_id = models.CharField(max_length=64, db_index=True)
    delivery_key = models.CharField(max_length=300, help_text="the webhook delivery acted on")
    received_at = models.DateTimeField(auto_now_add=True)
    data_retained = models.BooleanField(help_text="user_data_retention: data kept at their ask")
    meetings_deleted = models.IntegerField(default=0)
    tokens_deleted = models.BooleanField(
        default=False, help_text="the user's Zoom OAuth tokens (ZoomGrant) were deleted"
    )
    compliance_reported_at = models.DateTimeField(null=True, blank=True)
    compliance_error = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return f"deauthorized zoom:{self.zoom_user_id} at {self.received_at:%Y-%m-%d %H:%M}"


# Share links live in a module of their own; imported here so Django registers them with the app.
from assistant.share_models import ShareLink, ShareLinkOpening  # noqa: E402, F401

# Slides and camera thumbnails, likewise.
from assistant.slide_models import ParticipantPicture, Slide  # noqa: E402, F401

# Notes templates an admin writes, likewise.
from assistant.template_models import NotesTemplate, NotesTemplateSection  # noqa: E402, F401

# A host's sealed Zoom tokens (RTMS controls), likewise.
from assistant.zoom_grant_models import ZoomGrant  # noqa: E402, F401
