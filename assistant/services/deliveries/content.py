"""What a delivery carries: the export JSON (webhooks), or the notes as people read them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.urls import reverse

from assistant.models import ActionItem, Decision, Meeting, MeetingNotes
from assistant.services import clock, exports, transcripts_query
from assistant.services.notes import shapes


@dataclass(frozen=True)
class ActionLine:
    """An action item: what, who, by when (empty when not said)."""

    text: str
    owner: str
    due: str


@dataclass(frozen=True)
class SectionLines:
    """A section of the notes' template: heading, lines, and its note (empty when none)."""

    heading: str
    lines: list[str]
    note: str


@dataclass(frozen=True)
class NotesContent:
    """A meeting's final notes as Slack and email show them (text as stored: escape it)."""

    title: str
    started_at: datetime | None
    summary: str
    decisions: list[str]
    actions: list[ActionLine]
    link: str
    notes_version: int
    # The template's name and sections (none with the default template).
    template_name: str = ""
    sections: list[SectionLines] = field(default_factory=list)


def meeting_link(meeting_id: int) -> str:
    """The meeting's page on this site (SITE_URL)."""
    return settings.SITE_URL + reverse("meeting-detail", args=[meeting_id])


def notes_content(meeting_id: int) -> NotesContent:
    """The meeting's notes as stored now."""
    meeting = Meeting.objects.get(pk=meeting_id)
    notes = MeetingNotes.objects.filter(meeting_id=meeting_id).first()
    return NotesContent(
        title=(notes.title if notes else "") or meeting.topic or "Untitled meeting",
        started_at=meeting.started_at or meeting.created_at,
        summary=notes.summary if notes else "",
        decisions=[d.text for d in Decision.objects.filter(meeting_id=meeting_id)],
        actions=[
            ActionLine(a.text, a.owner, a.due_date.isoformat() if a.due_date else a.due_text)
            for a in ActionItem.objects.filter(meeting_id=meeting_id)
        ],
        link=meeting_link(meeting_id),
        notes_version=notes.version if notes else 0,
        template_name=shapes.template_json(notes)["name"] if notes else "",
        sections=[
            SectionLines(s.heading, [i.text for i in s.items], s.note)
            for s in (shapes.stored_sections(notes) if notes else [])
        ],
    )


def export_body(meeting_id: int) -> bytes:
    """The meeting's JSON export (docs/export-schema.json), as the JSON download gives it."""
    origin = clock.origin(transcripts_query.first_segment_start(meeting_id))
    return "".join(exports.json_document(meeting_id, origin)).encode("utf-8")
