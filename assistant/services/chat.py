"""Recording chat lines, idempotently."""

from __future__ import annotations

import hashlib

from django.db import IntegrityError, transaction

from assistant.models import ChatMessage
from assistant.services import live


def record_chat(
    meeting_id: int, sender_user_id: int | None, sender_name: str, sent_at_ms: int, text: str
) -> ChatMessage | None:
    """Store a chat line and publish it; None when it was already stored."""
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    dedupe_key = f"{sender_user_id}:{sent_at_ms}:{digest}"
    try:
        with transaction.atomic():
            seq = live.next_seq(meeting_id)
            row = ChatMessage.objects.create(
                meeting_id=meeting_id,
                seq=seq,
                sender_user_id=sender_user_id,
                sender_name=sender_name,
                sent_at_ms=sent_at_ms,
                text=text,
                dedupe_key=dedupe_key,
            )
            live.publish(
                meeting_id,
                seq,
                {
                    "type": "chat",
                    "id": row.pk,
                    "user_id": sender_user_id,
                    "sender": sender_name,
                    "at_ms": sent_at_ms,
                    "text": text,
                },
            )
            return row
    except IntegrityError:
        return None
