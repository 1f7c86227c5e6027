"""Finished meetings with transcripts, notes and chat, stored as the ingest and notes store them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from django.contrib.auth.models import User
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

# (speaker, start_ms, end_ms, text)
Line = tuple[str, int, int, str]
SPEAKERS = {"Priya Raman": 16778240, "Tom Okafor": 16779264, "Ana Lima": 16780288}
STANDUP: list[Line] = [
    ("Priya Raman", 1_000, 6_000, "Good morning, let's go through the release checklist."),
    ("Tom Okafor", 6_500, 14_500, "The payment job still needs a rollback plan before Thursday."),
    ("Priya Raman", 15_000, 19_000, "Then we ship the release on Thursday, agreed?"),
    ("Ana Lima", 19_500, 21_500, "Agreed. I'll write the release notes by Wednesday."),
    ("Tom Okafor", 22_000, 30_000, 'Quotes "like this" & <tags> stay text, --> too.'),
]

AddSegments = Callable[..., list[TranscriptSegment]]
MakeFinished = Callable[..., Meeting]


@pytest.fixture
def add_segments() -> AddSegments:
    """Store transcript lines of a meeting (final, one track) and return the rows."""

    def add(
        meeting: Meeting,
        lines: Sequence[Line],
        *,
        source: str = TranscriptSegment.Source.NATIVE,
        final: bool = True,
    ) -> list[TranscriptSegment]:
        first_seq = meeting.last_seq + 1
        rows = [
            TranscriptSegment(
                meeting=meeting,
                seq=first_seq + n,
                source=source,
                speaker_user_id=SPEAKERS.get(speaker),
                speaker_name=speaker,
                start_ms=start,
                end_ms=end,
                text=text,
                final=final,
                dedupe_key=f"{source}-{first_seq + n}",
            )
            for n, (speaker, start, end, text) in enumerate(lines)
        ]
        created = TranscriptSegment.objects.bulk_create(rows)
        meeting.last_seq = first_seq + len(rows) - 1
        meeting.save(update_fields=["last_seq"])
        # bulk_create sets pks on PostgreSQL and SQLite alike
        return created

    return add


@pytest.fixture
def make_finished(make_meeting: Callable[..., Meeting], add_segments: AddSegments) -> MakeFinished:
    """An ended meeting of `owner` with the stand-up transcript (or `lines`), notes and chat."""

    def make(owner: User | None, lines: Sequence[Line] = STANDUP, **fields: Any) -> Meeting:
        start = fields.pop("started_at", timezone.now() - dt.timedelta(hours=2))
        meeting = make_meeting(
            owner=owner,
            state=Meeting.State.ENDED,
            started_at=start,
            ended_at=start + dt.timedelta(minutes=30),
            **fields,
        )
        segments = add_segments(meeting, lines)
        for name, user_id in SPEAKERS.items():
            Participant.objects.create(
                meeting=meeting,
                zoom_user_id=user_id,
                name=name,
                joined_at_ms=0,
                is_present=False,
                left_at_ms=31_000,
            )
        ChatMessage.objects.create(
            meeting=meeting,
            seq=1000,
            sender_name="Ana Lima",
            sent_at_ms=20_000,
            text="Checklist: https://example.test/list",
            dedupe_key="c1",
        )
        if len(segments) >= 4:
            MeetingNotes.objects.create(
                meeting=meeting,
                summary="Release on Thursday after a rollback plan.",
                key_points=["Rollback plan first"],
                open_questions=["Who tells support?"],
            )
            Decision.objects.create(
                meeting=meeting,
                key="d1",
                text="Ship the release on Thursday",
                segment_ids=[segments[2].pk],
            )
            ActionItem.objects.create(
                meeting=meeting,
                key="a1",
                text="Write the release notes",
                owner="Ana Lima",
                due_text="by Wednesday",
                segment_ids=[segments[3].pk],
            )
        return meeting

    return make
