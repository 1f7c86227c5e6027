"""How long a meeting ran, as its page says it: seconds under a minute, else nearest minutes."""

from __future__ import annotations

import datetime as dt

import pytest

from assistant.models import Meeting
from assistant.views.presenters import duration_label

START = dt.datetime(2026, 11, 29, 9, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("seconds", "label"),
    [
        (42, "42 s"),
        (89, "1 min"),
        (114, "2 min"),  # the sample meeting: "1 min" read as half its length
        (3599, "1 h 00 min"),
        (3600 + 29 * 60 + 40, "1 h 30 min"),
    ],
)
def test_a_finished_meeting_reads_to_the_nearest_minute(seconds: int, label: str) -> None:
    meeting = Meeting(
        state=Meeting.State.ENDED,
        started_at=START,
        ended_at=START + dt.timedelta(seconds=seconds),
    )
    assert duration_label(meeting) == label


def test_a_meeting_not_started_has_no_duration() -> None:
    assert duration_label(Meeting(state=Meeting.State.ENDED)) == ""
