"""A host's edits of action items: validated, stored, marked so no later update overwrites them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db import transaction
from django.utils import timezone

from assistant.models import ActionItem, Decision, MeetingNotes
from assistant.services import live
from assistant.services.notes import dates, store

_FIELDS = {"text", "owner", "due", "done"}


@dataclass(frozen=True)
class Changes:
    """What an edit changes; None leaves a field as it is."""

    text: str | None = None
    owner: str | None = None
    due_text: str | None = None
    due_date: date | None = None
    done: bool | None = None


def parse_changes(body: dict[str, Any]) -> Changes:
    """The changes a request body asks for; ValueError (shown to the caller) when invalid."""
    unknown = set(body) - _FIELDS
    if unknown or not body:
        raise ValueError(f"Send one or more of: {', '.join(sorted(_FIELDS))}.")
    text = _string(body, "text", 1, 300)
    owner = _string(body, "owner", 0, 300)
    due = _string(body, "due", 0, 100) if body.get("due") is not None else None
    due_date = None
    if due:
        try:
            due_date = date.fromisoformat(due)
        except ValueError:
            due_date = dates.parse_due(due, timezone.localdate())
    done = body.get("done")
    if done is not None and not isinstance(done, bool):
        raise ValueError("done must be true or false.")
    cleared = "due" in body and not body.get("due")
    return Changes(text, owner, "" if cleared else due, due_date, done)


def _string(body: dict[str, Any], name: str, shortest: int, longest: int) -> str | None:
    """A string field of the body, stripped, within bounds; None when absent."""
    if name not in body:
        return None
    value = body[name]
    if not isinstance(value, str) or not shortest <= len(value.strip()) <= longest:
        raise ValueError(f"{name} must be a string of {shortest} to {longest} characters.")
    return value.strip()


def edit_action_item(item_id: int, changes: Changes, *, user_id: int | None) -> ActionItem:
    """Apply a host's changes to an item, keep it from later updates, and push the notes."""
    with transaction.atomic():
        meeting_id = ActionItem.objects.values_list("meeting_id", flat=True).get(pk=item_id)
        live.lock_meeting(meeting_id)
        item = ActionItem.objects.select_for_update().get(pk=item_id)
        wording = False
        if changes.text is not None:
            item.text, wording = changes.text, True
        if changes.owner is not None:
            item.owner, wording = changes.owner, True
        if changes.due_text is not None:
            item.due_text, item.due_date, wording = changes.due_text, changes.due_date, True
        if changes.done is not None:
            item.done = changes.done
        if wording:
            # From now on the engines may add sources to this item but never change its words.
            item.edited_by_host = True
        item.edited_by_id = user_id
        item.save()
        notes, _ = MeetingNotes.objects.get_or_create(meeting_id=meeting_id)
        live.append(meeting_id, lambda seq: store.notes_payload(notes, seq))
    return item


def edit_decision(decision_id: int, text: str, *, user_id: int | None) -> Decision:
    """A host rewords a decision: kept from later updates, and the notes pushed again."""
    with transaction.atomic():
        meeting_id = Decision.objects.values_list("meeting_id", flat=True).get(pk=decision_id)
        live.lock_meeting(meeting_id)
        decision = Decision.objects.select_for_update().get(pk=decision_id)
        decision.text = text
        decision.edited_by_host = True  # engines may add sources, never change its words
        decision.save()
        notes, _ = MeetingNotes.objects.get_or_create(meeting_id=meeting_id)
        live.append(meeting_id, lambda seq: store.notes_payload(notes, seq))
    return decision
