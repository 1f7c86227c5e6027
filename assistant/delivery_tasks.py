"""Celery task of the notes deliveries (queue `celery`): a thin adapter over services.deliveries.

Imported by assistant.tasks, so a worker that autodiscovers the app's tasks registers it.
"""

from __future__ import annotations

from typing import Any

from celery import shared_task

from assistant.jobs import RETRY_THROUGH_DB_OUTAGE
from assistant.services.deliveries import sending


@shared_task(
    name="assistant.deliver_notes",
    bind=True,
    # Idempotent: the job claims its delivery under its id (kept on redelivery), so a second
    # run finds it sent or being sent; receivers dedupe the rest on the delivery id.
    acks_late=True,
    # Above the run's budget for attempts and waits (services/deliveries/sending.py).
    soft_time_limit=270,
    time_limit=300,
    **RETRY_THROUGH_DB_OUTAGE,
)
def deliver_notes(self: Any, delivery_id: int) -> str:
    """Send a meeting's notes to one target; the state the delivery is left in."""
    return sending.deliver(delivery_id, job_id=self.request.id)
