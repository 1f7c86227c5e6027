"""A Zoom user removed the app (`app_deauthorized`): forget them, record it, tell Zoom.

Every session of theirs ends at once (the linked site user's and their panels'), and their live
sockets are closed after commit (services/sessions.py), whether or not the data is retained.

Unless the user asked Zoom to keep their data (`user_data_retention`), their meetings go
through `meeting_deletion.delete_meeting` (every segment, chat line, participant,
live event, note, queued audio and recording, live or not; a meeting on legal hold is kept and
logged). The audit rows say what was done, never what was said. Zoom's data-compliance API is
told after commit, by a job, through a client given as a parameter (tests pass a local
stand-in's URL).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from assistant.models import (
    DeauthorizationAudit,
    Meeting,
    MeetingDeletion,
    WebhookDelivery,
    ZoomUserLink,
)
from assistant.services import meeting_deletion, sessions, zoom_grants
from assistant.zoomapp import client
from assistant.zoomapp.client import ZoomError

log = logging.getLogger(__name__)

Reporter = Callable[[dict[str, Any]], None]


def _retained(payload: dict[str, Any]) -> bool:
    value = payload.get("user_data_retention")
    # Zoom sends it as a string ("true"/"false"); accept a JSON boolean too.
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


@transaction.atomic
def deauthorize(payload: dict[str, Any], delivery_key: str) -> DeauthorizationAudit:
    """End the user's sessions and delete their data unless retained; returns the audit row."""
    zoom_user_id = str(payload.get("user_id", ""))
    retained = _retained(payload)
    link = ZoomUserLink.objects.filter(zoom_user_id=zoom_user_id).first()
    sessions_ended = sessions.end_sessions_of(
        user_id=link.user_id if link is not None else None, zoom_user_id=zoom_user_id
    )
    # The tokens go whatever the user asked about their data: the app may no longer act for them.
    tokens_deleted = zoom_grants.forget(zoom_user_id) if zoom_user_id else False
    meetings_deleted = 0
    if not retained and zoom_user_id:
        owned = Q(operator_id=zoom_user_id)
        if link is not None:
            owned |= Q(owner_id=link.user_id)
        for meeting_id in Meeting.objects.filter(owned).values_list("pk", flat=True):
            try:  # the one way a meeting goes: audited, files removed, a legal hold kept
                meeting_deletion.delete_meeting(
                    meeting_id, MeetingDeletion.Reason.DEAUTHORIZED, even_live=True
                )
                meetings_deleted += 1
            except meeting_deletion.DeletionRefused as refused:
                log.warning("deauthorized user's meeting %s kept: %s", meeting_id, refused)
    audit = DeauthorizationAudit.objects.create(
        zoom_user_id=zoom_user_id,
        delivery_key=delivery_key,
        data_retained=retained,
        meetings_deleted=meetings_deleted,
        tokens_deleted=tokens_deleted,
    )
    log.info(
        "zoom user deauthorized: %d meetings deleted, %d sessions ended, data retained: %s",
        meetings_deleted,
        sessions_ended,
        retained,
    )
    return audit


def report_compliance(audit_id: int, reporter: Reporter = client.report_data_compliance) -> bool:
    """Tell Zoom what was done for one deauthorization; True once reported (idempotent)."""
    audit = DeauthorizationAudit.objects.filter(pk=audit_id).first()
    if audit is None or audit.compliance_reported_at is not None:
        return audit is not None
    delivery = WebhookDelivery.objects.filter(dedupe_key=audit.delivery_key).first()
    event = delivery.payload.get("payload", {}) if delivery is not None else {}
    body = {
        "client_id": settings.ZOOM_CLIENT_ID,
        "user_id": audit.zoom_user_id,
        "account_id": event.get("account_id", ""),
        "deauthorization_event_received": event,
        "compliance_completed": True,
    }
    try:
        reporter(body)
    except ZoomError as exc:
        audit.compliance_error = str(exc)[:300]
        audit.save(update_fields=["compliance_error"])
        return False
    audit.compliance_reported_at = timezone.now()
    audit.compliance_error = ""
    audit.save(update_fields=["compliance_reported_at", "compliance_error"])
    return True
