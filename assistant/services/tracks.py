"""Whose transcript a meeting has: Zoom's, ours, or both; and which one it reads from.

With both, our own recognition is the meeting's caption track (what viewers see first, what
notes and questions read); Zoom's is kept beside it as a second track.
"""

from __future__ import annotations

from django.conf import settings
from django.db.models import QuerySet

from assistant.models import Meeting, Transcription, TranscriptSegment


def transcription_mode(meeting: Meeting) -> str:
    """The meeting's own choice, else the TRANSCRIPTION setting."""
    return meeting.transcription or settings.TRANSCRIPTION


def wants_native(meeting: Meeting) -> bool:
    """Whether Zoom's transcript is asked for and stored for this meeting."""
    return transcription_mode(meeting) in (Transcription.NATIVE, Transcription.BOTH)


def wants_asr(meeting: Meeting) -> bool:
    """Whether our recogniser transcribes this meeting's audio."""
    return transcription_mode(meeting) in (Transcription.ASR, Transcription.BOTH)


def caption_source(meeting: Meeting) -> str:
    """The track the meeting reads from (a TranscriptSegment.Source value)."""
    asr = wants_asr(meeting)
    return TranscriptSegment.Source.ASR if asr else TranscriptSegment.Source.NATIVE


def caption_track(meeting_id: int) -> QuerySet[TranscriptSegment]:
    """The meeting's final segments of its caption track (drafts and the second track left out).

    A meeting whose choice changed keeps what each track holds; if its caption track has
    nothing yet, the other one is read, so notes never go blank because of the switch.
    """
    meeting = Meeting.objects.only("transcription").get(pk=meeting_id)
    finals = TranscriptSegment.objects.filter(meeting_id=meeting_id, final=True)
    primary = finals.filter(source=caption_source(meeting))
    return primary if primary.exists() else finals
