"""Recording chat lines, idempotently."""

from __future__ import annotations

import hashlib

from assistant import events
from assistant.models import ChatMessage
from assistant.services import live


def record_chat(
    meeting_id: int, sender_user_id: int | None, sender_name: str, sent_at_ms: int, text: str
) -> ChatMessage | None:
    """Store a chat line and publish it; None when it was already stored."""
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]

    def create(seq: int) -> ChatMessage:
        return ChatMessage.objects.create(
            meeting_id=meeting_id,
            seq=seq,
            sender_user_id=sender_user_id,
            sender_name=sender_name,
            sent_at_ms=sent_at_ms,
            text=text,
            dedupe_key=f"{sender_user_id}:{sent_at_ms}:{digest}",
        )

    return live.publish_new_row(meeting_id, create, chat_payload)


def chat_payload(row: ChatMessage) -> events.ChatPayload:
    """The live event of a stored chat line."""
    return {
        "type": events.CHAT,
        "seq": row.seq,
        "id": row.pk,
        "user_id": row.sender_user_id,
        "sender": row.sender_name,
        "at_ms": row.sent_at_ms,
        "text": row.text,
    }
