"""Whose transcript a meeting has (Zoom's, ours, or both) and which one is its primary track.

The primary track is the one notes, questions, exports and the speaking charts read, search
ranks first and the page shows first. It is the chosen track (the meeting's `notes_track`, else
the NOTES_TRACK setting: Zoom's by default, usually the better for names and numbers) when the
meeting's transcription mode produces it, else the other one.

Live, that is the whole rule: the primary track follows from the configuration alone, never
from which track happens to have rows yet (with both, Zoom's captions may arrive a little after
ours), so the rolling notes, which read on from where they stopped, never change tracks
halfway. Once the meeting has finished, a primary track without a single final segment gives
way to the other one, so notes and exports never come out blank because of a choice.
services/tracks_sql.py writes the same rule in SQL (tests compare the two).
"""

from __future__ import annotations

from django.conf import settings
from django.db.models import QuerySet

from assistant.models import Meeting, Track, Transcription, TranscriptSegment

# What primary_source reads of a meeting (for `.only()`).
RULE_FIELDS = ("transcription", "notes_track", "state")


def transcription_mode(meeting: Meeting) -> str:
    """The meeting's own choice, else the TRANSCRIPTION setting."""
    return meeting.transcription or settings.TRANSCRIPTION


def wants_native(meeting: Meeting) -> bool:
    """Whether Zoom's transcript is asked for and stored for this meeting."""
    return transcription_mode(meeting) in (Transcription.NATIVE, Transcription.BOTH)


def wants_asr(meeting: Meeting) -> bool:
    """Whether our recogniser transcribes this meeting's audio."""
    return transcription_mode(meeting) in (Transcription.ASR, Transcription.BOTH)


def chosen_track(meeting: Meeting) -> str:
    """The track the meeting's host chose to lead, else the NOTES_TRACK setting."""
    return meeting.notes_track or settings.NOTES_TRACK


def other_track(source: str) -> str:
    """The track that is not `source`."""
    return Track.ASR if source == Track.NATIVE else Track.NATIVE


def configured_primary(meeting: Meeting) -> str:
    """The primary track by configuration alone (the live rule): the chosen one, if produced."""
    mode = transcription_mode(meeting)
    if mode == Transcription.NATIVE:
        return Track.NATIVE
    if mode == Transcription.ASR:
        return Track.ASR
    return chosen_track(meeting)


def primary_source(meeting: Meeting) -> str:
    """The track the meeting reads from (a Track value).

    The configured one; on a finished meeting that has no final segment of it but has some of
    the other track, the other one.
    """
    configured = configured_primary(meeting)
    if meeting.is_live:
        return configured
    finals = TranscriptSegment.objects.filter(meeting_id=meeting.pk, final=True)
    if finals.filter(source=configured).exists():
        return configured
    other = other_track(configured)
    return other if finals.filter(source=other).exists() else configured


def final_segments(meeting_id: int, source: str) -> QuerySet[TranscriptSegment]:
    """The meeting's final segments of one track (drafts left out)."""
    return TranscriptSegment.objects.filter(meeting_id=meeting_id, final=True, source=source)


def primary_track(meeting_id: int) -> QuerySet[TranscriptSegment]:
    """The final segments of the meeting's primary track."""
    meeting = Meeting.objects.only(*RULE_FIELDS).get(pk=meeting_id)
    return final_segments(meeting_id, primary_source(meeting))
