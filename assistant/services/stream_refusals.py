"""Streams Zoom would not start for a meeting, kept a while for its host's panel to say why.

Zoom posts `meeting.rtms_concurrency_limited` (changelog 2025-07-21; `meeting_uuid` since
2025-09-11) instead of `rtms_started` when the app already has as many concurrent streams as
its plan allows: no stream and so no meeting row follows, and a host who pressed Start in the
panel would wait for nothing. The notice lives in the cache, keyed by the meeting's UUID, until
it expires; a stream of that meeting that starts later makes it moot.
"""

from __future__ import annotations

import hashlib
import time
from datetime import datetime

from django.core.cache import cache

CONCURRENCY_LIMITED = (
    "Zoom did not start live notes: this app is streaming as many meetings as its Zoom plan "
    "allows. Try again once another meeting's live notes have stopped."
)
NOTICE_TTL_S = 15 * 60


def _key(meeting_uuid: str) -> str:
    # Hashed: a UUID is base64 and may hold characters a cache key should not.
    return "rtms-refused:" + hashlib.sha256(meeting_uuid.encode()).hexdigest()


async def concurrency_limited(meeting_uuid: str) -> None:
    """Zoom refused a stream of this meeting: the app is at its concurrent-stream limit."""
    notice = {"at": time.time(), "text": CONCURRENCY_LIMITED}
    await cache.aset(_key(meeting_uuid), notice, NOTICE_TTL_S)


def refusal(
    meeting_uuid: str, newest_stream: datetime | None = None, since: float | None = None
) -> str:
    """Why Zoom lately refused to stream this meeting, in words; "" if it did not, if the
    meeting's newest stream (`newest_stream`, when it was created) came after the refusal, or
    if the refusal is older than `since` (unix seconds: when the asker began to wait)."""
    notice = cache.get(_key(meeting_uuid))
    if not isinstance(notice, dict):
        return ""
    at = notice.get("at", 0)
    if newest_stream is not None and newest_stream.timestamp() > at:
        return ""
    if since is not None and at < since:
        return ""
    text = notice.get("text")
    return text if isinstance(text, str) else ""
