"""A host chooses which transcript track leads a meeting; the notes follow the choice.

The choice is `Meeting.notes_track` (blank: the NOTES_TRACK setting); services/tracks.py
decides from it which track is primary. When that changes the track the notes are built from,
they are built again from the start of the new track: on a finished meeting by the final
notes' job, on a live one by a rolling update queued now, which reads the new track from its
start (the updates after it go on from there).
"""

from __future__ import annotations

from dataclasses import dataclass

from assistant import jobs
from assistant.models import Meeting, MeetingNotes, Track
from assistant.services import tracks
from assistant.services.notes import updates


@dataclass(frozen=True)
class TrackChosen:
    """What a choice did: the meeting's primary track now, and whether notes are rebuilt."""

    meeting: Meeting
    primary: str  # a Track value
    rebuilding: bool


def choose_notes_track(meeting_id: int, choice: str) -> TrackChosen:
    """Store the host's choice ("" = the setting); rebuild the notes if their track changes."""
    if choice and choice not in Track.values:
        raise ValueError(f"notes_track must be one of {', '.join(Track.values)} or empty")
    Meeting.objects.filter(pk=meeting_id).update(notes_track=choice)
    meeting = Meeting.objects.get(pk=meeting_id)
    primary = tracks.primary_source(meeting)
    notes = MeetingNotes.objects.filter(meeting_id=meeting_id).first()
    has_transcript = tracks.final_segments(meeting_id, primary).exists()
    rebuilding = has_transcript and (notes is None or notes.track != primary)
    if rebuilding:
        MeetingNotes.objects.get_or_create(meeting_id=meeting_id)
        if meeting.is_live:
            updates.queue_update(meeting_id)
        else:
            jobs.submit(jobs.FINAL_NOTES, meeting_id)
    return TrackChosen(meeting, primary, rebuilding)
