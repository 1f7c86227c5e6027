"""A finished meeting as its stored rows: transcript, participants, chat and notes citing a line.

Shared by the panel's view tests and its browser test.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from assistant.models import (
    ActionItem,
    ChatMessage,
    Decision,
    Meeting,
    MeetingNotes,
    Participant,
    TranscriptSegment,
)

CITED_TEXT = "We ship the retry fix on Thursday."
SUMMARY = "The team agreed to ship the retry fix."
ACTION = "Write the release note"
DECISION = "Ship the retry fix on Thursday"
CHAT_URL = "https://grafana.example.com/d/payments-retry?orgId=1&from=now-6h"
CHAT_TEXT = f"Staging dashboard: {CHAT_URL}. <b>not bold</b> javascript:alert(1)"
STAYED, LEFT = "Priya Raman", "Tomás Vidal"


@dataclass(frozen=True)
class FinishedMeeting:
    """The meeting and the transcript line its notes cite."""

    meeting: Meeting
    cited: TranscriptSegment


def finished_meeting(
    zoom_id: str,
    *,
    state: str = Meeting.State.ENDED,
    lines: int = 40,
    step_ms: int = 20_000,
    cited_line: int = 35,
    **fields: Any,
) -> FinishedMeeting:
    """A meeting that ended with `lines` captions `step_ms` apart; notes cite `cited_line`."""
    started = timezone.now() - dt.timedelta(hours=2)
    meeting = Meeting.objects.create(
        zoom_id=zoom_id,
        rtms_stream_id=f"stream-{zoom_id}",
        topic="Payments weekly",
        state=state,
        started_at=started,
        ended_at=started + dt.timedelta(milliseconds=lines * step_ms),
        **fields,
    )
    TranscriptSegment.objects.bulk_create(
        TranscriptSegment(
            meeting=meeting,
            seq=n + 1,
            source=TranscriptSegment.Source.NATIVE,
            speaker_user_id=1 + n % 2,
            speaker_name=STAYED if n % 2 == 0 else LEFT,
            start_ms=n * step_ms,
            end_ms=n * step_ms + step_ms // 2,
            text=CITED_TEXT if n == cited_line else f"Line {n} of the weekly sync.",
            dedupe_key=f"k{n}",
        )
        for n in range(lines)
    )
    cited = TranscriptSegment.objects.get(meeting=meeting, seq=cited_line + 1)
    Participant.objects.create(meeting=meeting, zoom_user_id=1, name=STAYED, joined_at_ms=0)
    Participant.objects.create(
        meeting=meeting,
        zoom_user_id=2,
        name=LEFT,
        joined_at_ms=0,
        left_at_ms=(lines - 1) * step_ms,
        is_present=False,
    )
    ChatMessage.objects.create(
        meeting=meeting,
        seq=lines + 1,
        sender_user_id=1,
        sender_name=STAYED,
        sent_at_ms=step_ms,
        text=CHAT_TEXT,
        dedupe_key="c1",
    )
    MeetingNotes.objects.create(meeting=meeting, summary=SUMMARY, version=1, is_final=True)
    Decision.objects.create(meeting=meeting, key="d1", text=DECISION, segment_ids=[cited.pk])
    ActionItem.objects.create(
        meeting=meeting, key="a1", text=ACTION, owner=LEFT, segment_ids=[cited.pk]
    )
    return FinishedMeeting(meeting=meeting, cited=cited)
