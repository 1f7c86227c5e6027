"""The sample meeting played into the database, as the ingest stores it."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User

from assistant.models import Meeting, Participant, TranscriptSegment
from assistant.services.transcript import SegmentInput, record_segment

SAMPLE = (
    Path(__file__).resolve().parents[3]
    / "rtms_ingest/simulator/sample_meetings/weekly_sync/meeting.json"
)
# The sample decides to ship on "Thursday the fourteenth of March": a Monday in 2024.
MEETING_DAY = dt.datetime(2024, 3, 11, 9, 0, tzinfo=dt.UTC)


def sample() -> dict[str, Any]:
    """The sample meeting's recording (rtms_ingest/simulator/sample_meetings/weekly_sync)."""
    data: dict[str, Any] = json.loads(SAMPLE.read_text())
    return data


def sample_inputs() -> list[SegmentInput]:
    """The sample's utterances as the ingest hands them to record_segment."""
    data = sample()
    names = {p["user_id"]: p["user_name"] for p in data["participants"]}
    return [
        SegmentInput(
            source=TranscriptSegment.Source.NATIVE,
            speaker_user_id=u["user_id"],
            speaker_name=names[u["user_id"]],
            start_ms=round(u["start_s"] * 1000),
            end_ms=round(u["end_s"] * 1000),
            text=u["text"],
            language="en",
        )
        for u in data["utterances"]
    ]


PlaySample = Callable[..., Meeting]


@pytest.fixture
def play_sample(make_meeting: Callable[..., Meeting], host: User) -> PlaySample:
    """Store the sample's participants and utterances in a new meeting of the host."""

    def play(
        *, after_each: Callable[[int], object] | None = None, limit: int | None = None
    ) -> Meeting:
        data = sample()
        meeting = make_meeting(
            topic=data["topic"], owner=host, state=Meeting.State.LIVE, started_at=MEETING_DAY
        )
        for p in data["participants"]:
            Participant.objects.create(
                meeting=meeting, zoom_user_id=p["user_id"], name=p["user_name"]
            )
        for segment in sample_inputs()[:limit]:
            record_segment(meeting.pk, segment)
            if after_each is not None:
                after_each(meeting.pk)
        return meeting

    return play


@pytest.fixture(scope="session")
def llama_url() -> Iterator[str]:
    """Base URL of a real llama-cpp-python server with SmolLM2 on loopback (one per session)."""
    from benchmarks.local_llm import llama_server

    with llama_server() as url:
        yield url
