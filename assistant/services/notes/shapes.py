"""The notes as the live event, the meeting page and the API show them (store.py stores them)."""

from __future__ import annotations

from assistant import events
from assistant.models import ActionItem, Decision, MeetingNotes
from assistant.services.notes import meeting_template
from assistant.services.notes.draft import DraftSection
from assistant.services.notes.engine_choice import engine_name


def notes_payload(notes: MeetingNotes, seq: int) -> events.NotesPayload:
    """The live event of the notes as stored now."""
    return {
        "type": events.NOTES,
        "seq": seq,
        "engine": notes.engine,
        "status": notes.status,
        "final": notes.is_final,
        "title": notes.title,
        "summary": notes.summary,
        "key_points": [str(p) for p in notes.key_points],
        "decisions": [decision_json(d) for d in Decision.objects.filter(meeting=notes.meeting_id)],
        "action_items": [
            action_json(a) for a in ActionItem.objects.filter(meeting=notes.meeting_id)
        ],
        "open_questions": [str(q) for q in notes.open_questions],
        "template": template_json(notes),
        "sections": sections_json(notes),
        "updated_at": notes.updated_at.isoformat(),
    }


def template_json(notes: MeetingNotes) -> events.NotesTemplate:
    """The template the notes were written with, as the API and the live event name it.

    Notes that are not written yet name the template they will be written with.
    """
    key = meeting_template.notes_key(notes.template) if notes.version else ""
    found = meeting_template.by_key(key) or meeting_template.of_meeting(notes.meeting_id)
    if key and found.key != key:
        # An admin's template deleted since: its key stays, its name is gone.
        return {"key": key, "name": key}
    return {"key": found.key, "name": found.name}


def sections_json(notes: MeetingNotes) -> list[events.NotesSection]:
    """The template's sections as the API and the live event show them."""
    return [
        {
            "heading": s.heading,
            "items": [{"text": i.text, "segment_ids": i.segment_ids} for i in s.items],
            "note": s.note,
        }
        for s in stored_sections(notes)
    ]


def page_notes(meeting_id: int) -> events.NotesPayload | None:
    """The notes as the page starts with them (the live event's shape), or None before any."""
    notes = MeetingNotes.objects.filter(meeting_id=meeting_id).first()
    if notes is None or notes.version == 0:
        return None
    return notes_payload(notes, notes.meeting.last_seq)


def api_notes(meeting_id: int) -> dict[str, object]:
    """GET /api/meetings/<id>/notes/: exactly the keys of the API, empty before any notes."""
    notes = MeetingNotes.objects.filter(meeting_id=meeting_id).first()
    template = template_json(notes) if notes else meeting_template.of_meeting(meeting_id).as_json()
    return {
        "engine": notes.engine if notes else engine_label_default(),
        "summary": notes.summary if notes else "",
        "key_points": [str(p) for p in notes.key_points] if notes else [],
        "decisions": [
            {"id": d["id"], "text": d["text"], "segment_ids": d["segment_ids"]}
            for d in map(decision_json, Decision.objects.filter(meeting_id=meeting_id))
        ],
        "action_items": [api_action(a) for a in ActionItem.objects.filter(meeting_id=meeting_id)],
        "open_questions": [str(q) for q in notes.open_questions] if notes else [],
        "template": template,
        "sections": sections_json(notes) if notes else [],
        "updated_at": notes.updated_at.isoformat() if notes else None,
    }


def api_action(row: ActionItem) -> dict[str, object]:
    """An action item with exactly the keys of the API."""
    item = action_json(row)
    return {key: item[key] for key in ("id", "text", "owner", "due", "done", "segment_ids")}


def engine_label_default() -> str:
    """The engine notes will be made with, before any are (the API's `engine` is never empty)."""
    return engine_name()


def decision_json(row: Decision) -> events.NotesDecision:
    """A decision as the API and the live event show it."""
    return {"id": row.pk, "text": row.text, "segment_ids": [int(i) for i in row.segment_ids]}


def action_json(row: ActionItem) -> events.NotesActionItem:
    """An action item as the API and the live event show it."""
    due = row.due_date.isoformat() if row.due_date else (row.due_text or None)
    return {
        "id": row.pk,
        "text": row.text,
        "owner": row.owner,
        "due": due,
        "due_text": row.due_text,
        "done": row.done,
        "edited": row.edited_by_host,
        "segment_ids": [int(i) for i in row.segment_ids],
    }


def stored_sections(notes: MeetingNotes) -> list[DraftSection]:
    """The template's sections as stored with the notes."""
    found = (DraftSection.from_json(s) for s in list(notes.sections or []))
    return [s for s in found if s is not None]
