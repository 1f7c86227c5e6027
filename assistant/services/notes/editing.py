"""A host's edits of the notes: validated, stored, kept from later updates, pushed to viewers.

A host may reword, tick or re-date an action item, add one the notes missed, reword a decision,
and remove either. Edited and added items are marked so no later update changes their words;
removed ones are remembered (MeetingNotes.removed_items) so no later update adds them again.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar

from django.db import transaction
from django.utils import timezone

from assistant.models import ActionItem, Decision, MeetingNotes
from assistant.services import live
from assistant.services.notes import dates, shapes, store

Row = TypeVar("Row", ActionItem, Decision)

_FIELDS = {"text", "owner", "due", "done"}
_NEW_ITEM_FIELDS = {"text", "owner", "due"}


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


def parse_new_item(body: dict[str, Any]) -> Changes:
    """The fields of an action item a host adds; ValueError (shown to the caller) when invalid."""
    if set(body) - _NEW_ITEM_FIELDS or "text" not in body:
        raise ValueError("Send text, and optionally owner and due.")
    return parse_changes(body)


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
        _push_notes(meeting_id)
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
        _push_notes(meeting_id)
    return decision


def add_action_item(meeting_id: int, fields: Changes, *, user_id: int | None) -> ActionItem:
    """A host adds an action item the notes missed; later updates keep it as it is."""
    with transaction.atomic():
        live.lock_meeting(meeting_id)
        item = ActionItem.objects.create(
            meeting_id=meeting_id,
            # Never one an engine would make (those are hashes of the words).
            key=f"host-{uuid.uuid4().hex[:24]}",
            text=fields.text or "",
            owner=fields.owner or "",
            due_text=fields.due_text or "",
            due_date=fields.due_date,
            edited_by_host=True,
            edited_by_id=user_id,
            position=store.next_position(ActionItem, meeting_id),
        )
        _push_notes(meeting_id)
    return item


def remove_action_item(item_id: int) -> bool:
    """A host removes an action item; later updates do not add it again. False if gone."""
    return _remove(
        ActionItem, item_id, lambda row: store.Removed("action", row.key, row.text, row.owner)
    )


def remove_decision(decision_id: int) -> bool:
    """A host removes a decision; later updates do not add it again. False if gone."""
    return _remove(Decision, decision_id, lambda row: store.Removed("decision", row.key, row.text))


def _remove(model: type[Row], pk: int, remembered: Callable[[Row], store.Removed]) -> bool:
    """Delete a decision or action item, remember it as removed, push the notes."""
    rows = model._default_manager.filter(pk=pk)
    with transaction.atomic():
        found = rows.values_list("meeting_id", flat=True).first()
        if found is None:
            return False
        live.lock_meeting(found)
        row = rows.select_for_update().first()
        if row is None:
            return False
        _remember_removed(found, remembered(row))
        row.delete()
        _push_notes(found)
    return True


def _remember_removed(meeting_id: int, removed: store.Removed) -> None:
    """Add to the notes' removed items (the caller holds the meeting's lock)."""
    notes, _ = MeetingNotes.objects.get_or_create(meeting_id=meeting_id)
    notes.removed_items = [*notes.removed_items, removed.as_json()]
    notes.save(update_fields=["removed_items"])


def _push_notes(meeting_id: int) -> None:
    """Publish the notes as they are now (viewers get them once the transaction commits)."""
    notes, _ = MeetingNotes.objects.get_or_create(meeting_id=meeting_id)
    live.append(meeting_id, lambda seq: shapes.notes_payload(notes, seq))
