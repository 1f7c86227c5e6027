"""A finished meeting's stored panes: its transcript part, participants and chat.

Shared by the dashboard's meeting page and the Zoom App panel, which render them with the same
partial (templates/meetings/live_panes.html) once the meeting is over.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from assistant.models import Meeting
from assistant.services import meeting_language, slides, transcripts_query
from assistant.views import presenters, slide_rows, transcript_parts


def finished_panes(meeting: Meeting, part: str | None, at: str | None) -> dict[str, Any]:
    """The template context of the panes: the part holding segment `at`, else part `part`."""
    origin = presenters.clock_origin(transcripts_query.first_segment_start(meeting.pk))
    parts = transcript_parts.parts(meeting.pk, origin, part, at)
    window = transcripts_query.transcript_window(meeting.pk, parts.start_ms, parts.end_ms)
    shown = slide_rows.slide_rows(slides.meeting_slides(meeting.pk), origin)
    return {
        "captions": _with_slides(
            presenters.caption_rows(list(window), origin, meeting_language.reference_code(meeting)),
            shown,
        ),
        "slides": shown,
        "parts": parts,
        "participants": presenters.participant_rows(
            list(transcripts_query.participants(meeting.pk)),
            origin,
            slide_rows.camera_thumbnails(meeting.pk),
        ),
        "chat": presenters.chat_rows(list(transcripts_query.chat(meeting.pk)), origin),
        "clock_origin": origin,
    }


def _with_slides(
    captions: list[presenters.CaptionRow], shown: list[slide_rows.SlideRow]
) -> list[presenters.CaptionRow]:
    """Each slide on the first line of each track said once it was on screen (its moment)."""
    if not shown:
        return captions
    placed: list[presenters.CaptionRow] = []
    pending: dict[str, list[slide_rows.SlideRow]] = {}
    for row in captions:
        queue = pending.setdefault(row.source, list(shown))
        due = [s for s in queue if s.at_ms <= row.start_ms]
        if due:
            pending[row.source] = queue[len(due) :]
            row = dataclasses.replace(row, slide=due[-1])
        placed.append(row)
    return placed
