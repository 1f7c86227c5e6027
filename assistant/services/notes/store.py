"""Notes to rows and back: items matched to their rows (never regenerated), hosts' edits kept."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol, TypeVar

from django.db import models, transaction
from django.db.models import Max, Q, QuerySet

from assistant import events
from assistant.models import ActionItem, Decision, MeetingNotes
from assistant.services import live
from assistant.services.notes import shapes
from assistant.services.notes.draft import (
    DraftAction,
    DraftDecision,
    NotesDraft,
    fold,
    similarity,
    stable_key,
)

# A new version of an item this similar to a row (and with the same owner) is that row.
SAME_ITEM = 0.5

RemovedKind = Literal["decision", "action"]


class _Noted(Protocol):
    """A decision or action item, stored or removed, as matching compares it with a draft."""

    @property
    def key(self) -> str: ...

    @property
    def text(self) -> str: ...


Noted = TypeVar("Noted", bound=_Noted)


@dataclass(frozen=True)
class Removed:
    """A decision or action item a host removed (MeetingNotes.removed_items): never added again."""

    kind: RemovedKind
    key: str
    text: str
    owner: str = ""

    def as_json(self) -> dict[str, str]:
        """The entry as MeetingNotes.removed_items stores it."""
        return {"kind": self.kind, "key": self.key, "text": self.text, "owner": self.owner}


def removed_of(notes: MeetingNotes, kind: RemovedKind) -> list[Removed]:
    """The items of one kind a host removed from these notes."""
    entries: list[Any] = list(notes.removed_items or [])
    return [
        Removed(kind, str(e.get("key", "")), str(e.get("text", "")), str(e.get("owner", "")))
        for e in entries
        if isinstance(e, dict) and e.get("kind") == kind
    ]


@dataclass(frozen=True)
class Outcome:
    """How a version of the notes was made."""

    engine: str
    status: str = MeetingNotes.Status.OK
    detail: str = ""
    final: bool = False


def draft_of(notes: MeetingNotes) -> NotesDraft:
    """The stored notes as a draft: what an engine starts from."""
    return NotesDraft(
        summary=notes.summary,
        key_points=[str(p) for p in notes.key_points],
        decisions=[
            DraftDecision(text=d.text, segment_ids=list(d.segment_ids), key=d.key)
            for d in Decision.objects.filter(meeting_id=notes.meeting_id)
        ],
        action_items=[
            DraftAction(
                text=a.text,
                owner=a.owner,
                due_text=a.due_text,
                due_date=a.due_date,
                segment_ids=list(a.segment_ids),
                key=a.key,
            )
            for a in ActionItem.objects.filter(meeting_id=notes.meeting_id)
        ],
        open_questions=[str(q) for q in notes.open_questions],
        title=notes.title,
        sections=shapes.stored_sections(notes),
        engine_state=dict(notes.engine_state),
    )


def _touched_decisions(meeting_id: int) -> QuerySet[Decision]:
    return Decision.objects.filter(meeting_id=meeting_id, edited_by_host=True)


def _touched_actions(meeting_id: int) -> QuerySet[ActionItem]:
    return ActionItem.objects.filter(meeting_id=meeting_id).filter(
        Q(edited_by_host=True) | Q(edited_by__isnull=False)
    )


def kept_draft(meeting_id: int) -> NotesDraft:
    """What notes built again from the start begin with: only the items a host touched."""
    return NotesDraft(
        decisions=[
            DraftDecision(text=d.text, segment_ids=list(d.segment_ids), key=d.key)
            for d in _touched_decisions(meeting_id)
        ],
        action_items=[
            DraftAction(
                text=a.text,
                owner=a.owner,
                due_text=a.due_text,
                due_date=a.due_date,
                segment_ids=list(a.segment_ids),
                key=a.key,
            )
            for a in _touched_actions(meeting_id)
        ],
    )


def save(
    meeting_id: int,
    draft: NotesDraft,
    outcome: Outcome,
    *,
    covered_seq: int,
    covered_end_ms: int | None,
    lock_token: str | None,
    track: str = "",
    template: str = "",
    start_over: bool = False,
) -> events.NotesPayload | None:
    """Store a version of the notes and publish it; None if our lock was lost meanwhile.

    `track` is the transcript track the draft was read from, `template` the key of the
    template it was written with. With `start_over` the draft was built from the start of the
    track (another track or template than before): the items the engines wrote before go,
    unless a host edited them (or ticked them off), and the notes cover exactly what the
    draft read.
    """
    with transaction.atomic():
        live.lock_meeting(meeting_id)
        notes = MeetingNotes.objects.select_for_update().get(meeting_id=meeting_id)
        if lock_token is not None and notes.lock_token != lock_token:
            # Our lock expired and another update holds it now: its version wins.
            return None
        if start_over:
            _drop_untouched_items(meeting_id)
            notes.covered_seq, notes.covered_end_ms = 0, None
            notes.engine_state = {}
        _merge_decisions(meeting_id, draft.decisions, removed_of(notes, "decision"))
        _withdraw_decisions(meeting_id, draft.withdrawn)
        _merge_actions(meeting_id, draft.action_items, removed_of(notes, "action"))
        notes.engine = outcome.engine
        notes.status = outcome.status
        notes.status_detail = outcome.detail[:300]
        notes.is_final = notes.is_final or outcome.final
        notes.title = draft.title or notes.title
        notes.summary = draft.summary
        notes.key_points = list(draft.key_points)
        notes.open_questions = list(draft.open_questions)
        notes.sections = [section.as_json() for section in draft.sections]
        notes.engine_state = draft.engine_state or notes.engine_state
        notes.track = track or notes.track
        notes.template = template or notes.template
        notes.covered_seq = max(notes.covered_seq, covered_seq)
        if covered_end_ms is not None:
            notes.covered_end_ms = max(notes.covered_end_ms or 0, covered_end_ms)
        notes.version += 1
        notes.save()
        payload = live.append(meeting_id, lambda seq: shapes.notes_payload(notes, seq))
    assert payload["type"] == events.NOTES
    return payload


def _drop_untouched_items(meeting_id: int) -> None:
    """Delete the decisions and action items only the engines wrote."""
    touched = _touched_decisions(meeting_id).values("pk")
    Decision.objects.filter(meeting_id=meeting_id).exclude(pk__in=touched).delete()
    kept = _touched_actions(meeting_id).values("pk")
    ActionItem.objects.filter(meeting_id=meeting_id).exclude(pk__in=kept).delete()


def _merge_decisions(
    meeting_id: int, drafts: Sequence[DraftDecision], removed: Sequence[Removed]
) -> None:
    """Each draft decision updates its row (unless a host edited it) or becomes a new row.

    One a host removed stays removed.
    """
    rows = list(Decision.objects.filter(meeting_id=meeting_id))
    for draft in drafts:
        candidates: list[Removed | Decision] = [*removed, *rows]
        found = _match(candidates, draft.key, draft.text, owner=None)
        if isinstance(found, Removed):
            continue
        row = found
        if row is None:
            row = Decision(
                meeting_id=meeting_id,
                key=_new_key(candidates, draft.key, draft.text),
                position=next_position(Decision, meeting_id),
            )
            rows.append(row)
        if not row.edited_by_host:
            row.text = draft.text
        row.segment_ids = list(dict.fromkeys([*row.segment_ids, *draft.segment_ids]))
        row.save()


def _withdraw_decisions(meeting_id: int, keys: Sequence[str]) -> None:
    """Decisions the meeting took back ("scrap that"): gone, unless a host edited them."""
    if keys:
        Decision.objects.filter(meeting_id=meeting_id, key__in=keys, edited_by_host=False).delete()


def _merge_actions(
    meeting_id: int, drafts: Sequence[DraftAction], removed: Sequence[Removed]
) -> None:
    """Each draft action item updates its row (unless a host edited it) or becomes a new row.

    One a host removed stays removed; one a host added is a row like the others.
    """
    rows = list(ActionItem.objects.filter(meeting_id=meeting_id))
    for draft in drafts:
        candidates: list[Removed | ActionItem] = [*removed, *rows]
        found = _match(candidates, draft.key, draft.text, owner=draft.owner)
        if isinstance(found, Removed):
            continue
        row = found
        if row is None:
            row = ActionItem(
                meeting_id=meeting_id,
                key=_new_key(candidates, draft.key, draft.owner, draft.text),
                position=next_position(ActionItem, meeting_id),
            )
            rows.append(row)
        if not row.edited_by_host:
            row.text = draft.text
            # A later version may leave out what an earlier one knew; keep what was known.
            row.owner = draft.owner or row.owner
            if draft.due_text:
                row.due_text, row.due_date = draft.due_text[:100], draft.due_date
        row.segment_ids = list(dict.fromkeys([*row.segment_ids, *draft.segment_ids]))
        row.save()


def _match(candidates: Sequence[Noted], key: str, text: str, *, owner: str | None) -> Noted | None:
    """The item a draft item is a version of: same key, else nearly the same words and owner.

    Of equally close candidates the last wins: callers list removed items before rows.
    """
    if key:
        for candidate in candidates:
            if candidate.key == key:
                return candidate
    best, best_score = None, SAME_ITEM
    for candidate in candidates:
        candidate_owner = getattr(candidate, "owner", "")
        if owner and candidate_owner and fold(owner) != fold(candidate_owner):
            continue
        score = similarity(candidate.text, text)
        if score >= best_score:
            best, best_score = candidate, score
    return best


def _new_key(taken_by: Sequence[_Noted], proposed: str, *parts: str) -> str:
    """A key no item of the meeting has: the engine's, else one from the words, made unique."""
    taken = {item.key for item in taken_by}
    key = proposed if proposed and len(proposed) <= 64 else stable_key(*parts)
    candidate, n = key, 1
    while candidate in taken:
        n += 1
        candidate = f"{key[:56]}-{n}"
    return candidate


def next_position(model: type[models.Model], meeting_id: int) -> int:
    """One past the meeting's last item position."""
    top = model._default_manager.filter(meeting_id=meeting_id).aggregate(top=Max("position"))
    return int(top["top"] or 0) + 1
