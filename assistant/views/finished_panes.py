"""A finished meeting's stored panes: its transcript part, participants and chat.

Shared by the dashboard's meeting page and the Zoom App panel, which render them with the same
partial (templates/meetings/live_panes.html) once the meeting is over.
"""

from __future__ import annotations

from typing import Any

from assistant.models import Meeting
from assistant.services import meeting_language, transcripts_query
from assistant.views import presenters, transcript_parts


def finished_panes(meeting: Meeting, part: str | None, at: str | None) -> dict[str, Any]:
    """The template context of the panes: the part holding segment `at`, else part `part`."""
    origin = presenters.clock_origin(transcripts_query.first_segment_start(meeting.pk))
    parts = transcript_parts.parts(meeting.pk, origin, part, at)
    window = transcripts_query.transcript_window(meeting.pk, parts.start_ms, parts.end_ms)
    return {
        "captions": presenters.caption_rows(
            list(window), origin, meeting_language.reference_code(meeting)
        ),
        "parts": parts,
        "participants": presenters.participant_rows(
            list(transcripts_query.participants(meeting.pk)), origin
        ),
        "chat": presenters.chat_rows(list(transcripts_query.chat(meeting.pk)), origin),
        "clock_origin": origin,
    }
