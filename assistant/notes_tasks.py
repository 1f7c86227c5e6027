"""Celery tasks of the AI notes (queue `llm`): thin adapters over assistant.services.notes.

Imported by assistant.tasks, so a worker that autodiscovers the app's tasks registers these.
"""

from __future__ import annotations

from typing import Any

from celery import shared_task

from assistant.jobs import RETRY_THROUGH_DB_OUTAGE
from assistant.models import MeetingNotes
from assistant.services.notes import updates

# Each job locks the meeting's notes under its task id, which its retries keep: a retry after
# the database went away takes back the lock the failed run could not release.


@shared_task(
    name="llm.update_notes",
    bind=True,
    # Idempotent: an update covers the segments after the stored notes, under a per-meeting lock
    # taken in the job's name, so a delivery after its worker died takes the lock back.
    acks_late=True,
    soft_time_limit=240,
    time_limit=300,
    **RETRY_THROUGH_DB_OUTAGE,
)
def update_notes(self: Any, meeting_id: int) -> bool:
    """Bring a meeting's rolling notes up to date; False when another update holds the lock."""
    if not MeetingNotes.objects.filter(meeting_id=meeting_id).exists():
        return False
    return updates.update(meeting_id, job_id=self.request.id)


@shared_task(
    name="llm.final_notes",
    bind=True,
    # Idempotent: final notes are rewritten from the whole transcript; rows are matched by key.
    acks_late=True,
    soft_time_limit=600,
    time_limit=660,
    **RETRY_THROUGH_DB_OUTAGE,
)
def final_notes(self: Any, meeting_id: int) -> bool:
    """Write a meeting's final notes (map-reduce over the whole transcript)."""
    if not MeetingNotes.objects.filter(meeting_id=meeting_id).exists():
        return False
    return updates.finish(meeting_id, job_id=self.request.id)
