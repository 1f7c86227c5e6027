"""A meeting exported as Markdown, WebVTT, SRT or JSON; access is decided by the caller.

Markdown, WebVTT and SRT carry the meeting's primary track (services/tracks.py); the JSON
carries every final segment of both, each with its source. Subtitle times count from the
meeting's clock origin (0, or its first wall-clock start), as the page's caption clock does.
Each format is produced as a stream of text chunks, reading the transcript with an iterator so
a long meeting is never held as model instances. The JSON layout is documented in
docs/export-schema.json; change EXPORT_VERSION with it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, NamedTuple

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.text import slugify

from assistant.models import (
    ActionItem,
    ChatMessage,
    Decision,
    Meeting,
    MeetingNotes,
    Participant,
    TranscriptSegment,
)
from assistant.services import clock, slide_exports, slides, tracks
from assistant.services.markdown_text import block, heading, inline, one_line
from assistant.services.notes import shapes

# 2: the notes name their template and carry its sections. 3: the slides shown, and each
# segment's language described.
EXPORT_VERSION = 3
# The topic's part of a file name, at most this long (a file name stays well under 255 bytes).
_NAME_CHARS = 60


class Line(NamedTuple):
    """A transcript line as the subtitle formats need it."""

    segment_id: int
    speaker: str
    start_ms: int
    end_ms: int
    text: str


def file_name(meeting: Meeting, fmt: str) -> str:
    """The download's name: topic and day, e.g. `weekly-sync-2026-12-06.md` (ASCII only).

    A topic with no letter or digit to keep gives `meeting-<id>-<day>`.
    """
    day = timezone.localdate(meeting.started_at or meeting.created_at).isoformat()
    topic = slugify(meeting.topic)[:_NAME_CHARS].strip("-_")
    return f"{topic or f'meeting-{meeting.pk}'}-{day}.{fmt}"


def caption_lines(meeting_id: int) -> Iterator[Line]:
    """The primary track's final segments in the order they were said."""
    rows = (
        tracks.primary_track(meeting_id)
        .order_by("start_ms", "seq")
        .values_list("pk", "speaker_name", "start_ms", "end_ms", "text")
    )
    for pk, speaker, start, end, text in rows.iterator(chunk_size=1000):
        yield Line(pk, speaker, start, end, one_line(text))


def _span(line: Line, origin: int) -> tuple[int, int]:
    """Start and end from the origin; a cue lasts at least a millisecond (parsers drop others)."""
    start = max(0, line.start_ms - origin)
    return start, max(start + 1, line.end_ms - origin)


def timestamp(ms: int, separator: str) -> str:
    """`HH:MM:SS.mmm` (WebVTT, separator ".") or `HH:MM:SS,mmm` (SRT, separator ",")."""
    seconds, millis = divmod(ms, 1000)
    minutes, secs = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{millis:03d}"


def _vtt_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def webvtt(meeting_id: int, origin: int) -> Iterator[str]:
    """WebVTT: one cue per segment, its id the segment id, the speaker as a voice tag."""
    yield "WEBVTT\n"
    for line in caption_lines(meeting_id):
        start, end = _span(line, origin)
        voice = f"<v {_vtt_escape(one_line(line.speaker))}>" if line.speaker.strip() else ""
        yield (
            f"\n{line.segment_id}\n{timestamp(start, '.')} --> {timestamp(end, '.')}\n"
            f"{voice}{_vtt_escape(line.text)}\n"
        )


def srt(meeting_id: int, origin: int) -> Iterator[str]:
    """SRT: numbered cues, `Speaker: text`."""
    for number, line in enumerate(caption_lines(meeting_id), start=1):
        start, end = _span(line, origin)
        speaker = one_line(line.speaker)
        text = f"{speaker}: {line.text}" if speaker else line.text
        yield f"{number}\n{timestamp(start, ',')} --> {timestamp(end, ',')}\n{text}\n\n"


def markdown(meeting_id: int, origin: int) -> Iterator[str]:
    """Markdown: the notes (summary, decisions, action items, the template's sections), the
    slides, the transcript (with a line where each slide was shown), then the chat."""
    meeting = Meeting.objects.get(pk=meeting_id)
    yield f"# {heading(meeting.topic or 'Untitled meeting')}\n\n"
    if meeting.started_at:
        yield f"- Started: {meeting.started_at.isoformat(timespec='minutes')}\n"
    if meeting.ended_at:
        yield f"- Ended: {meeting.ended_at.isoformat(timespec='minutes')}\n"
    names = [inline(p.name) for p in _participants(meeting_id) if p.name]
    if names:
        yield f"- Participants: {', '.join(names)}\n"
    notes = MeetingNotes.objects.filter(meeting_id=meeting_id).first()
    if notes is not None and notes.summary:
        yield f"\n## Summary\n\n{block(notes.summary)}\n"
        if notes.key_points:
            yield "\n### Key points\n\n" + "".join(f"- {block(p)}\n" for p in notes.key_points)
    decisions = list(Decision.objects.filter(meeting_id=meeting_id))
    if decisions:
        yield "\n## Decisions\n\n" + "".join(f"- {block(d.text)}\n" for d in decisions)
    items = list(ActionItem.objects.filter(meeting_id=meeting_id))
    if items:
        yield "\n## Action items\n\n" + "".join(_md_item(a) for a in items)
    if notes is not None and notes.open_questions:
        yield "\n## Open questions\n\n" + "".join(f"- {block(q)}\n" for q in notes.open_questions)
    if notes is not None and notes.sections:
        yield from _md_sections(notes)
    shown = slides.meeting_slides(meeting_id)
    yield from slide_exports.markdown_section(shown, origin)
    yield "\n## Transcript\n"
    pending = list(shown)
    for line in caption_lines(meeting_id):
        while pending and pending[0].shown_at_ms <= line.start_ms:
            yield slide_exports.markdown_marker(pending.pop(0), origin)
        speaker = inline(line.speaker) or "Unknown speaker"
        yield f"\n**{clock.elapsed(line.start_ms - origin)} {speaker}:** {inline(line.text)}\n"
    yield from _md_chat(meeting_id, origin)


def _md_sections(notes: MeetingNotes) -> Iterator[str]:
    """The template's sections under its name: a heading each, its lines, its note."""
    yield f"\n## {heading(shapes.template_json(notes)['name'])}\n"
    for section in shapes.stored_sections(notes):
        lines = [f"- {block(item.text)}\n" for item in section.items]
        if section.note:
            # A paragraph of its own, after the list if there is one.
            lines.append(("\n" if lines else "") + f"_{inline(section.note)}_\n")
        yield f"\n### {heading(section.heading)}\n\n" + "".join(lines)


def _md_chat(meeting_id: int, origin: int) -> Iterator[str]:
    """The chat section: one list item a message, its time, sender and text."""
    rows = (
        ChatMessage.objects.filter(meeting_id=meeting_id)
        .order_by("seq")
        .values_list("sent_at_ms", "sender_name", "text")
    )
    for n, (sent_at_ms, sender, text) in enumerate(rows.iterator(chunk_size=1000)):
        if not n:
            yield "\n## Chat\n\n"
        said = clock.elapsed(max(0, sent_at_ms - origin))
        yield f"- {said} **{inline(sender) or 'Unknown sender'}:** {inline(text)}\n"


def _md_item(item: ActionItem) -> str:
    extra = [inline(item.owner)] if item.owner else []
    if item.due_text or item.due_date:
        extra.append(f"due {inline(item.due_text or str(item.due_date))}")
    suffix = f" ({', '.join(extra)})" if extra else ""
    return f"- [{'x' if item.done else ' '}] {inline(item.text)}{suffix}\n"


def _participants(meeting_id: int) -> QuerySet[Participant]:
    return Participant.objects.filter(meeting_id=meeting_id).order_by("joined_at_ms", "id")


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def json_document(meeting_id: int, origin: int) -> Iterator[str]:
    """JSON (docs/export-schema.json): everything stored about the meeting, segments streamed."""
    meeting = Meeting.objects.select_related("owner").get(pk=meeting_id)
    head = {
        "version": EXPORT_VERSION,
        "exported_at": timezone.now().isoformat(),
        "meeting": {
            "id": meeting.pk,
            "topic": meeting.topic,
            "product": meeting.product,
            "state": meeting.state,
            "zoom_id": meeting.zoom_id,
            "host": meeting.owner.get_username() if meeting.owner else None,
            "started_at": _iso(meeting.started_at),
            "ended_at": _iso(meeting.ended_at),
            # The name is a promise of version 1; the value is the primary track.
            "caption_source": tracks.primary_source(meeting),
            "clock_origin_ms": origin,
        },
        "notes": _notes_json(meeting_id),
        "decisions": [
            {"id": d.pk, "text": d.text, "segment_ids": [int(i) for i in d.segment_ids]}
            for d in Decision.objects.filter(meeting_id=meeting_id)
        ],
        "action_items": [_item_json(a) for a in ActionItem.objects.filter(meeting_id=meeting_id)],
        "participants": [
            {
                "zoom_user_id": p.zoom_user_id,
                "name": p.name,
                "joined_at_ms": p.joined_at_ms,
                "left_at_ms": p.left_at_ms,
            }
            for p in _participants(meeting_id)
        ],
        "chat": [
            {
                "seq": c.seq,
                "sender": c.sender_name,
                "sender_user_id": c.sender_user_id,
                "sent_at_ms": c.sent_at_ms,
                "text": c.text,
            }
            for c in ChatMessage.objects.filter(meeting_id=meeting_id).order_by("seq")
        ],
        "slides": slide_exports.json_slides(meeting_id),
    }
    # The object without its closing brace, then the segments array, then the brace.
    yield json.dumps(head, ensure_ascii=False)[:-1] + ', "segments": ['
    segments = TranscriptSegment.objects.filter(meeting_id=meeting_id, final=True).order_by(
        "start_ms", "seq"
    )
    for n, s in enumerate(segments.iterator(chunk_size=1000)):
        yield ("," if n else "") + json.dumps(_segment_json(s), ensure_ascii=False)
    yield "]}\n"


def _notes_json(meeting_id: int) -> dict[str, Any] | None:
    notes = MeetingNotes.objects.filter(meeting_id=meeting_id).first()
    if notes is None:
        return None
    return {
        "title": notes.title,
        "summary": notes.summary,
        "key_points": list(notes.key_points),
        "open_questions": list(notes.open_questions),
        "engine": notes.engine,
        "is_final": notes.is_final,
        "template": dict(shapes.template_json(notes)),
        "sections": [dict(s) for s in shapes.sections_json(notes)],
        "updated_at": _iso(notes.updated_at),
    }


def _item_json(item: ActionItem) -> dict[str, Any]:
    return {
        "id": item.pk,
        "text": item.text,
        "owner": item.owner,
        "due_text": item.due_text,
        "due_date": _iso(item.due_date),
        "done": item.done,
        "segment_ids": [int(i) for i in item.segment_ids],
    }


def _segment_json(s: TranscriptSegment) -> dict[str, Any]:
    return {
        "id": s.pk,
        "seq": s.seq,
        "source": s.source,
        "speaker": s.speaker_name,
        "speaker_user_id": s.speaker_user_id,
        "start_ms": s.start_ms,
        "end_ms": s.end_ms,
        "text": s.text,
        "language": s.language,
    }
