"""Transcribing a finished meeting again from its recordings, for example with a bigger model.

Each participant's recording (assistant.recordings) is cut at its pauses by voice detection
(never across a jump in the stream clock), each stretch is recognised as a final, and the
meeting's `asr` track is replaced by the result in one transaction (notes keep their sources).
Then the final notes are written again from the meeting's primary track (services/tracks.py).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from django.conf import settings

from assistant import recordings
from assistant.models import Meeting, Transcription
from assistant.services import meeting_language, notes
from assistant.services.tracks import wants_asr
from assistant.services.transcript import Recognised, replace_asr_track

log = logging.getLogger(__name__)

JOIN_GAP_S = 0.8  # pauses shorter than this stay inside one stretch
MAX_STRETCH_S = 25.0  # one decode window, with room for Whisper's padding


class RetranscriptionRefused(Exception):
    """The meeting cannot be transcribed again now; the message says why."""


@dataclass(frozen=True)
class Retranscribed:
    """What a re-transcription did."""

    model: str
    tracks: int
    stretches: int
    segments: int
    audio_s: float
    decode_s: float
    asr_track_added: bool  # the meeting had Zoom's transcript only; ours is now beside it


def retranscribe(
    meeting_id: int,
    *,
    model: str = "",
    language: str = "",
    progress: Callable[[str], None] = lambda _: None,
) -> Retranscribed:
    """Recognise the meeting's recordings again and replace its `asr` track."""
    from assistant.transcription import recognise  # loads no model until here
    from assistant.transcription.engine import (
        decoder_for,
        pcm16_to_float,
        settings_config,
        speech_spans,
    )

    meeting = Meeting.objects.get(pk=meeting_id)
    if meeting.is_live:
        raise RetranscriptionRefused(f"meeting {meeting_id} is live: wait until it has ended")
    tracks = list(recordings.recorded_tracks(meeting_id))
    if not tracks:
        raise RetranscriptionRefused(
            f"meeting {meeting_id} has no recording in {recordings.meeting_dir(meeting_id)} "
            "(recording is off unless RECORD_AUDIO or the meeting's record_audio is on)"
        )
    config = replace(settings_config(), model=model or settings.WHISPER_MODEL)
    decoder_for(config)  # a model that cannot load fails here, before any work
    locked = language or meeting_language.whisper_language(meeting) or meeting.asr_language or None
    started = time.perf_counter()
    versions: list[Recognised] = []
    stretches = 0
    audio_s = 0.0
    for track in tracks:
        samples = pcm16_to_float(track.pcm)
        audio_s += len(samples) / recordings.SAMPLE_RATE
        spans = _split_at(
            speech_spans(samples, join_gap_s=JOIN_GAP_S, max_s=MAX_STRETCH_S),
            track.anchor_samples(),
        )
        progress(f"participant {track.user_id} ({track.name or 'unnamed'}): {len(spans)} stretches")
        for first, last in spans:
            stretches += 1
            result = recognise(
                track.pcm[first * 2 : last * 2], final=True, language=locked, config=config
            )
            if not result.text:
                continue
            start_ms = track.stream_ms(first)
            versions.append(
                Recognised(
                    speaker_user_id=track.user_id or None,
                    speaker_name=track.name,
                    utterance_start_ms=start_ms,
                    start_ms=start_ms,
                    end_ms=track.stream_ms(last),
                    text=result.text,
                    language=result.language,
                    revision=0,
                    final=True,
                )
            )
    if not versions:
        raise RetranscriptionRefused(
            f"nothing was recognised in meeting {meeting_id}'s recordings "
            f"({stretches} stretches of speech): its transcript is left as it was"
        )
    rows = replace_asr_track(meeting_id, versions)
    added = not wants_asr(meeting)
    if added:  # both tracks now; which one leads stays the meeting's choice (tracks.py)
        Meeting.objects.filter(pk=meeting_id).update(transcription=Transcription.BOTH)
    notes.meeting_ended(meeting_id)
    done = Retranscribed(
        model=config.model,
        tracks=len(tracks),
        stretches=stretches,
        segments=len(rows),
        audio_s=audio_s,
        decode_s=time.perf_counter() - started,
        asr_track_added=added,
    )
    log.info("meeting %s re-transcribed: %s", meeting_id, done)
    return done


def _split_at(spans: list[tuple[int, int]], cuts: list[int]) -> list[tuple[int, int]]:
    """Spans cut wherever the recording jumps in stream time (an anchor)."""
    result = []
    for first, last in spans:
        for cut in cuts:
            if first < cut < last:
                result.append((first, cut))
                first = cut
        result.append((first, last))
    return [(a, b) for a, b in result if b - a >= recordings.SAMPLE_RATE // 10]
