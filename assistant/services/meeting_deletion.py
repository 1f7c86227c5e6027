"""Deleting a meeting with everything attached: the one way a meeting is ever deleted.

Retention (MEETING_RETENTION_DAYS), a host's delete button and the admin all come here, so
every deletion removes the same things and leaves the same audit row (MeetingDeletion: what
kind of rows went and how many, when, why and by whom; never any content).

A meeting deleted while its stream is open (a deauthorization) is announced after commit
(`open_meeting_deleted`): the ingest stops its stream, and its sinks refuse to write for a
meeting that is gone. Recording and picture folders left without a meeting anyway (a write that
raced the deletion, a crash between commit and removal) are swept by `remove_orphan_recordings`.
"""

from __future__ import annotations

import logging
import shutil
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Model, Q
from django.dispatch import Signal
from django.utils import timezone

from assistant import pictures, recordings
from assistant.models import (
    ActionItem,
    ChatMessage,
    ConnectionLogEntry,
    Decision,
    Delivery,
    LiveEvent,
    Meeting,
    MeetingDeletion,
    MeetingNotes,
    Participant,
    ParticipantPicture,
    ShareLink,
    Slide,
    TranscriptSegment,
)
from assistant.speech_audio import audio_store

log = logging.getLogger(__name__)

# Large tables are emptied in chunks, so deleting a long meeting never holds locks on (or
# builds a cascade list of) all its rows at once.
CHUNK_ROWS = 2000
Reason = MeetingDeletion.Reason
# A recording folder without a meeting is left alone until nothing wrote to it for this long.
ORPHAN_QUIET_S = 300.0

# Sent after commit when a meeting whose stream was still open is deleted, with its
# `meeting_id`, `product`, `zoom_id` and `rtms_stream_id`: the ingest stops that stream (the app
# does not know the ingest; its wiring connects here: rtms_ingest/runtime/deleted_streams.py).
open_meeting_deleted = Signal()


class DeletionRefused(Exception):
    """The meeting may not be deleted now (legal hold, or still live); the message says why."""


def delete_meeting(
    meeting_id: int, reason: str, actor: User | None = None, *, even_live: bool = False
) -> MeetingDeletion:
    """Delete a finished, unheld meeting and all it holds; return the audit row.

    `even_live`: a meeting still live goes too (its host withdrew consent: Zoom stops the stream,
    and whatever the ingest still writes for it is refused by the database and logged).
    """
    counts = {name: 0 for name in (*_CHUNKED, *_SMALL_TABLES)}
    for name, model in _CHUNKED.items():
        while chunk := _delete_chunk(model, meeting_id, even_live):
            counts[name] += chunk
    with transaction.atomic():
        meeting = _locked_deletable(meeting_id, even_live)
        for name, model in {**_CHUNKED, **_SMALL_TABLES}.items():
            # The big tables again: rows stored since their chunks go with the meeting.
            counts[name] += model._default_manager.filter(meeting_id=meeting_id).delete()[0]
        audit = MeetingDeletion.objects.create(
            meeting_id=meeting_id,
            owner_id=meeting.owner_id,
            started_at=meeting.started_at,
            ended_at=meeting.ended_at,
            reason=reason,
            actor=actor,
            counts=counts,
        )
        stream = {
            "meeting_id": meeting_id,
            "product": meeting.product,
            "zoom_id": meeting.zoom_id,
            "rtms_stream_id": meeting.rtms_stream_id,
        }
        was_open = meeting.state not in Meeting.FINISHED_STATES
        meeting.delete()
        if was_open:
            # First, so the stream is asked to stop before its files go.
            transaction.on_commit(lambda: _announce_open_deletion(stream))
        transaction.on_commit(lambda: remove_attached_files(meeting_id))
    log.info("deleted meeting %d (%s): %s", meeting_id, reason, counts)
    return audit


def _locked_deletable(meeting_id: int, even_live: bool = False) -> Meeting:
    """The meeting, row-locked until the transaction ends, if it may be deleted."""
    meeting = Meeting.objects.select_for_update().filter(pk=meeting_id).first()
    if meeting is None:
        raise DeletionRefused("No such meeting.")
    if meeting.legal_hold:
        raise DeletionRefused("This meeting is under legal hold.")
    if meeting.is_live and not even_live:
        raise DeletionRefused("This meeting is still live; it can be deleted once it has ended.")
    return meeting


# Each chunk is its own transaction, under the meeting's row lock with the hold checked: a
# hold set while a long meeting is being deleted stops the deletion at the next chunk.
_CHUNKED: dict[str, type[Model]] = {"segments": TranscriptSegment, "live_events": LiveEvent}
_SMALL_TABLES: dict[str, type[Model]] = {
    "action_items": ActionItem,
    "decisions": Decision,
    "notes": MeetingNotes,
    "chat_messages": ChatMessage,
    "participants": Participant,
    "connection_log": ConnectionLogEntry,
    "share_links": ShareLink,
    "deliveries": Delivery,
    "slides": Slide,
    "participant_pictures": ParticipantPicture,
}


def _delete_chunk(model: type[Model], meeting_id: int, even_live: bool) -> int:
    with transaction.atomic():
        _locked_deletable(meeting_id, even_live)
        rows = model._default_manager.filter(meeting_id=meeting_id)
        ids = list(rows.values_list("pk", flat=True)[:CHUNK_ROWS])
        return model._default_manager.filter(pk__in=ids).delete()[0] if ids else 0


def remove_attached_files(meeting_id: int) -> None:
    """Remove what the meeting left outside the database (after its rows are gone): utterance
    audio still waiting for recognition, its speakers' recognition context, its recordings."""
    store = audio_store()
    removed = sum(
        store.delete_prefix(prefix)
        for prefix in (f"asr:utt:{meeting_id}:", f"asr:ctx:{meeting_id}:")
    )
    if removed:
        log.info("meeting %d: removed %d stored audio entries", meeting_id, removed)
    recordings.delete_recordings(meeting_id)
    pictures.delete_pictures(meeting_id)


def _announce_open_deletion(stream: dict[str, object]) -> None:
    """Tell whoever streams the meeting (the ingest) that it is gone; failures are logged."""
    for receiver, result in open_meeting_deleted.send_robust(sender=Meeting, **stream):
        if isinstance(result, Exception):
            log.error(
                "meeting %s deleted, but %r failed: %s", stream["meeting_id"], receiver, result
            )


def remove_orphan_recordings(quiet_s: float = ORPHAN_QUIET_S) -> int:
    """Remove recording folders whose meeting is gone (idempotent); returns how many went."""

    def existing(ids: list[int]) -> set[int]:
        return set(Meeting.objects.filter(pk__in=ids).values_list("pk", flat=True))

    removed = 0
    for root in (Path(settings.RECORDINGS_DIR), Path(settings.PICTURES_DIR)):
        for folder in recordings.orphan_folders(existing, quiet_s, root):
            shutil.rmtree(folder, ignore_errors=True)
            log.info("removed folder %s of %s: its meeting is gone", folder.name, root)
            removed += 1
    return removed


def expired_meetings(retention_days: int, limit: int) -> list[int]:
    """Ids of finished meetings past retention and not on hold, oldest first, at most `limit`."""
    cutoff = timezone.now() - timedelta(days=retention_days)
    finished = Q(state__in=Meeting.FINISHED_STATES) & (
        Q(ended_at__lt=cutoff) | Q(ended_at__isnull=True, created_at__lt=cutoff)
    )
    rows = (
        Meeting.objects.filter(finished, legal_hold=False)
        .order_by("ended_at", "id")
        .values_list("pk", flat=True)
    )
    return list(rows[:limit])


def purge_expired_meetings(retention_days: int | None, batch: int) -> int:
    """Delete up to `batch` meetings past retention (None: keep everything); returns how many."""
    if retention_days is None:
        return 0
    deleted = 0
    for meeting_id in expired_meetings(retention_days, batch):
        try:
            delete_meeting(meeting_id, Reason.RETENTION)
        except DeletionRefused as exc:  # a hold set since the ids were read
            log.info("retention skipped meeting %d: %s", meeting_id, exc)
            continue
        deleted += 1
    return deleted
