"""The primary track of a meeting: the setting, the host's choice, the mode, the fallbacks."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from pytest_django.fixtures import Settings

from assistant.models import Meeting, TranscriptSegment
from assistant.services import tracks

pytestmark = pytest.mark.django_db

MakeMeeting = Callable[..., Meeting]
LIVE, ENDED = Meeting.State.LIVE, Meeting.State.ENDED


def _store(meeting: Meeting, *sources: str, final: bool = True) -> None:
    start = meeting.segments.count()
    for n, source in enumerate(sources, start=start):
        TranscriptSegment.objects.create(
            meeting=meeting,
            seq=n + 1,
            source=source,
            start_ms=n * 1000,
            end_ms=n * 1000 + 900,
            text=f"{source} words",
            final=final,
            dedupe_key=f"{source}-{n}",
        )


def _primary(meeting: Meeting) -> str:
    return tracks.primary_source(Meeting.objects.get(pk=meeting.pk))


def test_zoom_s_track_leads_a_meeting_with_both_by_default(
    make_meeting: MakeMeeting, settings: Settings
) -> None:
    assert settings.NOTES_TRACK == "native"
    meeting = make_meeting(transcription="both", state=ENDED)
    _store(meeting, "asr", "native", "asr", "native")
    assert _primary(meeting) == "native"
    assert {s.source for s in tracks.primary_track(meeting.pk)} == {"native"}


def test_the_setting_can_make_ours_lead(make_meeting: MakeMeeting, settings: Settings) -> None:
    settings.NOTES_TRACK = "asr"
    meeting = make_meeting(transcription="both", state=ENDED)
    _store(meeting, "asr", "native")
    assert _primary(meeting) == "asr"


def test_the_hosts_choice_overrides_the_setting(
    make_meeting: MakeMeeting, settings: Settings
) -> None:
    settings.NOTES_TRACK = "asr"
    meeting = make_meeting(transcription="both", notes_track="native", state=LIVE)
    assert _primary(meeting) == "native"
    Meeting.objects.filter(pk=meeting.pk).update(notes_track="asr")
    settings.NOTES_TRACK = "native"
    assert _primary(meeting) == "asr"


@pytest.mark.parametrize(
    ("mode", "choice", "expected"),
    [("asr", "native", "asr"), ("native", "asr", "native"), ("", "asr", "native")],
)
def test_a_meeting_with_one_track_reads_it_whatever_the_choice(
    make_meeting: MakeMeeting, mode: str, choice: str, expected: str
) -> None:
    # The TRANSCRIPTION setting of the tests is native: "" means Zoom's only.
    meeting = make_meeting(transcription=mode, notes_track=choice, state=LIVE)
    assert _primary(meeting) == expected


def test_live_the_track_follows_the_choice_not_which_track_has_rows_yet(
    make_meeting: MakeMeeting,
) -> None:
    # Ours arrives first, Zoom's captions a little later: the notes wait for Zoom's.
    meeting = make_meeting(transcription="both", state=LIVE)
    _store(meeting, "asr", "asr")
    assert _primary(meeting) == "native"
    assert not tracks.primary_track(meeting.pk).exists()
    _store(meeting, "native")
    assert [s.source for s in tracks.primary_track(meeting.pk)] == ["native"]


def test_a_finished_meeting_whose_primary_track_is_empty_reads_the_other(
    make_meeting: MakeMeeting,
) -> None:
    meeting = make_meeting(transcription="both", state=ENDED)
    _store(meeting, "asr", "asr")
    _store(meeting, "native", final=False)  # a draft is no transcript
    assert _primary(meeting) == "asr"
    assert tracks.primary_track(meeting.pk).count() == 2


def test_a_finished_meeting_without_any_transcript_keeps_its_configured_track(
    make_meeting: MakeMeeting,
) -> None:
    meeting = make_meeting(transcription="both", notes_track="asr", state=ENDED)
    assert _primary(meeting) == "asr"
