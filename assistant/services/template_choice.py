"""A host chooses a meeting's notes template; the notes are rebuilt with it.

The choice is `Meeting.notes_template` (blank: the first template whose topic rule matches,
else the default; services/notes/meeting_template.py). When that changes the template the
notes are written with, they are built again from the start, as when the notes' track changes
(track_choice.py): on a finished meeting by the final notes' job, on a live one by a rolling
update queued now. Hosts' edits of decisions and action items are kept (store.save).
"""

from __future__ import annotations

from dataclasses import dataclass

from assistant import jobs
from assistant.models import Meeting, MeetingNotes
from assistant.services import tracks
from assistant.services.notes import meeting_template, updates
from assistant.services.notes.templates import Template


@dataclass(frozen=True)
class TemplateChosen:
    """What a choice did: the template the notes use now, and whether they are rebuilt."""

    meeting: Meeting
    template: Template
    rebuilding: bool


def choose_notes_template(meeting_id: int, choice: str) -> TemplateChosen:
    """Store the host's choice ("" = by the topic); rebuild the notes if their template changes.

    ValueError when no template has that key.
    """
    if choice and meeting_template.by_key(choice) is None:
        raise ValueError(f"no notes template {choice!r}")
    Meeting.objects.filter(pk=meeting_id).update(notes_template=choice)
    meeting = Meeting.objects.get(pk=meeting_id)
    template = meeting_template.for_meeting(meeting)
    notes = MeetingNotes.objects.filter(meeting_id=meeting_id).first()
    has_transcript = tracks.primary_track(meeting_id).exists()
    written_with = meeting_template.notes_key(notes.template) if notes else None
    rebuilding = has_transcript and written_with != template.key
    if rebuilding:
        MeetingNotes.objects.get_or_create(meeting_id=meeting_id)
        if meeting.is_live:
            updates.queue_update(meeting_id)
        else:
            jobs.submit(jobs.FINAL_NOTES, meeting_id)
    return TemplateChosen(meeting, template, rebuilding)
