"""The extractive engine on the sample meeting, and rows that stay stable across updates."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from pytest_django.fixtures import Settings

from assistant.models import ActionItem, Decision, Meeting, MeetingNotes
from assistant.services.notes import dates, updates
from assistant.services.notes.editing import Changes, edit_action_item
from assistant.services.transcript import SegmentInput, record_segment
from tests.assistant.notes.conftest import PlaySample, sample_inputs

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _extractive(settings: Settings) -> None:
    settings.NOTES_ENGINE = "extractive"
    settings.LLM_BASE_URL = ""


def _find(meeting_id: int, owner: str, words: str) -> ActionItem:
    """The one action item of `owner` whose text has all these words."""
    found = [
        a
        for a in ActionItem.objects.filter(meeting_id=meeting_id)
        if a.owner.startswith(owner) and all(w in a.text.lower() for w in words.split())
    ]
    assert len(found) == 1, [(a.owner, a.text) for a in ActionItem.objects.all()]
    return found[0]


def test_sample_meeting_extract_has_its_decision_and_every_action_item(
    play_sample: PlaySample,
) -> None:
    meeting = play_sample()
    assert updates.update(meeting.pk)

    notes = MeetingNotes.objects.get(meeting=meeting)
    assert notes.engine == MeetingNotes.Engine.EXTRACTIVE
    [decision] = Decision.objects.filter(meeting=meeting)
    assert "ship 2.4 on thursday" in decision.text.lower()
    assert "offline mode moves to 2.5" in decision.text.lower()

    monday = dt.date(2024, 3, 11)
    zoe = _find(meeting.pk, "Zoë", "accessibility")
    assert (zoe.due_text, zoe.due_date) == ("Tuesday", monday + dt.timedelta(days=1))
    bjorn = _find(meeting.pk, "Björn", "rollback plan")
    assert (bjorn.due_text, bjorn.due_date) == ("Wednesday", monday + dt.timedelta(days=2))
    tomas_notes = _find(meeting.pk, "Tomás", "release notes")
    assert tomas_notes.due_date == monday + dt.timedelta(days=2)
    _find(meeting.pk, "Tomás", "customers csv")
    review = _find(meeting.pk, "Tomás", "review pull request")
    assert review.due_date == monday
    _find(meeting.pk, "Priya", "demo")
    assert ActionItem.objects.filter(meeting=meeting).count() == 6


def test_every_item_links_to_the_segment_it_was_said_in(play_sample: PlaySample) -> None:
    meeting = play_sample()
    updates.update(meeting.pk)
    bjorn = _find(meeting.pk, "Björn", "rollback plan")
    [segment] = meeting.segments.filter(pk__in=bjorn.segment_ids)
    assert "rollback plan" in segment.text
    [decision] = Decision.objects.filter(meeting=meeting)
    assert meeting.segments.filter(pk__in=decision.segment_ids, text__startswith="Decided").exists()


def test_rolling_updates_keep_the_same_rows(play_sample: PlaySample) -> None:
    meeting = play_sample(limit=14)
    updates.update(meeting.pk)
    first = {a.key: a.pk for a in ActionItem.objects.filter(meeting=meeting)}
    assert len(first) == 2  # Zoë and Björn so far

    for segment in sample_inputs()[14:]:
        record_segment(meeting.pk, segment)
    updates.update(meeting.pk)

    after = {a.key: a.pk for a in ActionItem.objects.filter(meeting=meeting)}
    assert len(after) == 6
    assert all(after[key] == pk for key, pk in first.items())
    assert MeetingNotes.objects.get(meeting=meeting).version == 2


def test_final_notes_rewrite_never_overwrite_a_hosts_edit(play_sample: PlaySample) -> None:
    meeting = play_sample()
    updates.update(meeting.pk)
    zoe = _find(meeting.pk, "Zoë", "accessibility")
    edit_action_item(zoe.pk, Changes(text="Fix the three screen reader bugs"), user_id=None)

    assert updates.finish(meeting.pk)

    zoe.refresh_from_db()
    assert zoe.text == "Fix the three screen reader bugs"
    assert zoe.edited_by_host
    assert ActionItem.objects.filter(meeting=meeting).count() == 6
    notes = MeetingNotes.objects.get(meeting=meeting)
    assert notes.is_final and notes.title == meeting.topic


def test_extract_summary_quotes_the_decision(play_sample: PlaySample) -> None:
    meeting = play_sample()
    updates.update(meeting.pk)
    notes = MeetingNotes.objects.get(meeting=meeting)
    assert "We ship 2.4 on Thursday" in notes.summary
    assert notes.key_points


@pytest.mark.parametrize(
    ("said", "expected"),
    [
        ("Friday", dt.date(2024, 3, 15)),
        ("next Tuesday", dt.date(2024, 3, 19)),
        ("Monday", dt.date(2024, 3, 18)),
        ("tomorrow", dt.date(2024, 3, 12)),
        ("March twentieth", dt.date(2024, 3, 20)),
        ("the 2nd of April", dt.date(2024, 4, 2)),
        ("end of the month", dt.date(2024, 3, 31)),
        ("someday", None),
    ],
)
def test_due_dates_as_said_are_parsed_from_the_meeting_day(
    said: str, expected: dt.date | None
) -> None:
    assert dates.parse_due(said, dt.date(2024, 3, 11)) == expected


def test_a_deadline_is_found_and_cut_from_the_task() -> None:
    assert dates.find_due("fix the login bug by Friday afternoon") == (
        "Friday afternoon",
        "fix the login bug",
    )


def test_a_decision_taken_back_in_a_later_update_leaves_the_stored_notes(
    make_meeting: Callable[..., Meeting], settings: Settings
) -> None:
    settings.TRANSCRIPTION = "native"
    meeting = make_meeting(state=Meeting.State.LIVE)
    said = [
        "Okay, we decided to book the downtown hotel.",
        "Wait, the downtown hotel has no step-free access to the main hall.",
        "Then scrap that, we will not book the downtown hotel.",
        "Decision: we book the riverside conference centre instead.",
    ]

    def say(n: int) -> None:
        record_segment(
            meeting.pk,
            SegmentInput("native", 7, "Nina Petrova", n * 5000, n * 5000 + 4000, said[n]),
        )

    say(0)
    updates.update(meeting.pk)
    assert [d.text for d in Decision.objects.filter(meeting=meeting)] == [
        "We decided to book the downtown hotel."
    ]
    for n in (1, 2, 3):
        say(n)
    updates.update(meeting.pk)

    assert [d.text for d in Decision.objects.filter(meeting=meeting)] == [
        "We book the riverside conference centre instead."
    ]
