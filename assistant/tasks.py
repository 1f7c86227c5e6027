"""Celery tasks: thin adapters over services."""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task
from django.conf import settings

from assistant import (
    delivery_tasks,  # noqa: F401  (registers the notes deliveries' task with Celery)
    jobs,
    notes_tasks,  # noqa: F401  (registers the llm.* notes tasks with Celery)
)
from assistant.services import deauthorization, meeting_deletion, retention, slides, speech

log = logging.getLogger(__name__)


@shared_task(name="assistant.purge_webhook_deliveries", acks_late=True, soft_time_limit=60)
def purge_webhook_deliveries() -> int:
    """Drop webhook deliveries older than WEBHOOK_RETENTION_DAYS (idempotent)."""
    deleted = retention.purge_webhook_deliveries(settings.WEBHOOK_RETENTION_DAYS)
    log.info("purged %d webhook deliveries", deleted)
    return deleted


@shared_task(
    name="assistant.purge_expired_meetings",
    acks_late=True,  # idempotent: a meeting already deleted is simply not found again
    soft_time_limit=240,
    time_limit=300,
)
def purge_expired_meetings() -> int:
    """Delete a batch of meetings past MEETING_RETENTION_DAYS (none when it is unset), then
    the recording folders whose meeting is gone (whatever the retention setting)."""
    deleted = meeting_deletion.purge_expired_meetings(
        settings.MEETING_RETENTION_DAYS, settings.MEETING_RETENTION_BATCH
    )
    orphans = meeting_deletion.remove_orphan_recordings()
    log.info("retention deleted %d meetings and %d orphan recording folders", deleted, orphans)
    return deleted


@shared_task(
    name="asr.transcribe_utterance",
    acks_late=True,  # idempotent: a version is recorded once (services.transcript)
    soft_time_limit=60,
    time_limit=90,
    **jobs.RETRY_THROUGH_DB_OUTAGE,  # its audio waits in the store meanwhile (ASR_AUDIO_TTL_S)
)
def transcribe_utterance(**job: Any) -> None:
    """Recognise one cut of an utterance and record its text (queue `asr`)."""
    speech.transcribe_utterance(speech.UtteranceJob.from_task(job))


@shared_task(
    name="asr.read_slide",
    acks_late=True,  # idempotent: a slide read before is not read again
    soft_time_limit=60,
    time_limit=90,
    **jobs.RETRY_THROUGH_DB_OUTAGE,
)
def read_slide(slide_id: int) -> None:
    """Read one slide's text (OCR) and store it (queue `asr`)."""
    slides.read_slide(slide_id)


@shared_task(
    name="assistant.report_deauthorization",
    bind=True,
    acks_late=True,  # idempotent: a reported audit row is not reported again
    soft_time_limit=60,
    max_retries=12,
)
def report_deauthorization(self: Any, audit_id: int) -> None:
    """Tell Zoom's data-compliance API what was deleted; retried while Zoom is unreachable."""
    if not deauthorization.report_compliance(audit_id):
        raise self.retry(countdown=300)
