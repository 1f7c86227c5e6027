"""Notes read the meeting's primary track: Zoom's by default, the host's choice otherwise.

The sample meeting is stored twice, as the ingest would with TRANSCRIPTION=both: Zoom's
transcript as recorded, and ours with the mistakes a small recogniser makes with names.
"""

from __future__ import annotations

from collections.abc import Callable, Collection

import pytest
from django.contrib.auth.models import User
from pytest_django.fixtures import Settings

from assistant import jobs
from assistant.models import ActionItem, Decision, Meeting, MeetingNotes, TranscriptSegment
from assistant.services import track_choice
from assistant.services.notes import updates
from assistant.services.notes.editing import Changes, edit_action_item
from assistant.services.transcript import Recognised, record_recognition, record_segment
from tests.assistant.notes.conftest import MEETING_DAY, sample, sample_inputs

pytestmark = pytest.mark.django_db(transaction=True)

# What tiny.en made of the names (issue 20).
MISHEARD = {"Tomás": "to Mars", "Zoë": "Moly", "Björn": "Bjorn", "by Tuesday": "my Tuesday"}


@pytest.fixture(autouse=True)
def _extractive_in_process(settings: Settings) -> None:
    settings.NOTES_ENGINE = "extractive"
    settings.LLM_BASE_URL = ""
    settings.JOBS_IN_PROCESS = True
    settings.NOTES_EXTRACT_UPDATE_SEGMENTS = 3
    settings.NOTES_EXTRACT_UPDATE_SECONDS = 3600


def _misheard(text: str) -> str:
    for right, wrong in MISHEARD.items():
        text = text.replace(right, wrong)
    return text


PlayBoth = Callable[..., Meeting]


@pytest.fixture
def play_both(make_meeting: Callable[..., Meeting], host: User) -> PlayBoth:
    """The sample with both tracks, ours stored first for each utterance (it often is)."""

    def play(**fields: object) -> Meeting:
        meeting = make_meeting(
            topic=sample()["topic"],
            owner=host,
            state=Meeting.State.LIVE,
            started_at=MEETING_DAY,
            transcription="both",
            **fields,
        )
        for said in sample_inputs():
            record_recognition(
                meeting.pk,
                Recognised(
                    speaker_user_id=said.speaker_user_id,
                    speaker_name=said.speaker_name,
                    utterance_start_ms=said.start_ms,
                    start_ms=said.start_ms,
                    end_ms=said.end_ms,
                    text=_misheard(said.text),
                    language="en",
                    revision=0,
                    final=True,
                ),
            )
            record_segment(meeting.pk, said)
        jobs.shutdown()  # the rolling updates the segments queued
        return meeting

    return play


def _cited_sources(meeting: Meeting, kept: Collection[int] = ()) -> set[str]:
    """The tracks the engines' items cite (items in `kept` left out)."""
    ids = [
        int(i)
        for model in (Decision, ActionItem)
        for row in model.objects.filter(meeting=meeting).exclude(pk__in=kept)
        for i in row.segment_ids
    ]
    return set(TranscriptSegment.objects.filter(pk__in=ids).values_list("source", flat=True))


def _words(meeting: Meeting) -> str:
    notes = MeetingNotes.objects.get(meeting=meeting)
    items = [f"{a.owner}: {a.text}" for a in ActionItem.objects.filter(meeting=meeting)]
    return " ".join([notes.summary, *notes.key_points, *items])


def test_live_notes_read_zoom_s_track_although_ours_arrives_first(play_both: PlayBoth) -> None:
    meeting = play_both()
    notes = MeetingNotes.objects.get(meeting=meeting)
    assert notes.track == "native" and notes.version >= 2
    native = meeting.segments.filter(source="native")
    assert native.filter(seq__gt=notes.covered_seq).count() < 3
    assert _cited_sources(meeting) == {"native"}
    words = _words(meeting)
    assert "Tomás" in words and "to Mars" not in words and "Moly" not in words


def test_a_finished_meeting_switched_to_our_track_has_its_notes_rebuilt(
    play_both: PlayBoth, host: User
) -> None:
    meeting = play_both()
    Meeting.objects.filter(pk=meeting.pk).update(state=Meeting.State.ENDED)
    assert updates.finish(meeting.pk)
    items = list(ActionItem.objects.filter(meeting=meeting))
    reworded, ticked = items[0], items[1]
    edit_action_item(reworded.pk, Changes(text="Fix the three screen reader bugs"), user_id=None)
    edit_action_item(ticked.pk, Changes(done=True), user_id=host.pk)

    chosen = track_choice.choose_notes_track(meeting.pk, "asr")
    assert (chosen.primary, chosen.rebuilding) == ("asr", True)
    jobs.shutdown()

    notes = MeetingNotes.objects.get(meeting=meeting)
    assert (notes.track, notes.is_final) == ("asr", True)
    assert "to Mars" in _words(meeting), "the notes now read our words"
    kept = {reworded.pk, ticked.pk}
    assert set(ActionItem.objects.filter(pk__in=kept).values_list("pk", flat=True)) == kept
    assert ActionItem.objects.get(pk=reworded.pk).text == "Fix the three screen reader bugs"
    assert ActionItem.objects.get(pk=ticked.pk).done
    assert _cited_sources(meeting, kept) == {"asr"}, "the engines' items of Zoom's track went"

    chosen = track_choice.choose_notes_track(meeting.pk, "")  # back to the setting: Zoom's
    assert (chosen.primary, chosen.rebuilding) == ("native", True)
    jobs.shutdown()
    assert MeetingNotes.objects.get(meeting=meeting).track == "native"
    assert "to Mars" not in _words(meeting) and "Tomás" in _words(meeting)


def test_a_live_meeting_switched_to_our_track_reads_it_again_from_the_start(
    play_both: PlayBoth,
) -> None:
    meeting = play_both()
    before = MeetingNotes.objects.get(meeting=meeting)
    chosen = track_choice.choose_notes_track(meeting.pk, "asr")
    assert (chosen.primary, chosen.rebuilding) == ("asr", True)
    jobs.shutdown()
    notes = MeetingNotes.objects.get(meeting=meeting)
    assert notes.track == "asr" and not notes.is_final and notes.version > before.version
    ours = meeting.segments.filter(source="asr").order_by("seq")
    assert notes.covered_seq == ours.last().seq  # type: ignore[union-attr]
    assert _cited_sources(meeting) == {"asr"}
    # Our words ("to Mars"); names before an item ("Tomás: ...") are the speakers', not words.
    assert "to Mars" in MeetingNotes.objects.get(meeting=meeting).summary


def test_choosing_the_track_the_notes_already_read_rebuilds_nothing(
    play_both: PlayBoth,
) -> None:
    meeting = play_both()
    version = MeetingNotes.objects.get(meeting=meeting).version
    chosen = track_choice.choose_notes_track(meeting.pk, "native")
    assert (chosen.primary, chosen.rebuilding) == ("native", False)
    jobs.shutdown()
    assert MeetingNotes.objects.get(meeting=meeting).version == version


def test_a_choice_the_meeting_cannot_follow_changes_nothing(play_both: PlayBoth) -> None:
    meeting = play_both()
    Meeting.objects.filter(pk=meeting.pk).update(transcription="native")  # Zoom's only now
    chosen = track_choice.choose_notes_track(meeting.pk, "asr")
    assert (chosen.primary, chosen.rebuilding) == ("native", False)
    with pytest.raises(ValueError, match="notes_track"):
        track_choice.choose_notes_track(meeting.pk, "both")
