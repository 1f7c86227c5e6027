"""Our own transcription: utterances handed over by the ingest, recognised by `asr` jobs.

The ingest cuts each participant's audio into utterances and calls `hand_over_utterance` (from
a thread: it does blocking I/O). That keeps the PCM in the audio store and queues one job
carrying only ids, times and the audio's key. The job (`transcribe_utterance`, on an `asr`
worker) skips a provisional cut already replaced, recognises the audio and records the text
through `transcript.record_recognition`, which replaces the utterance's earlier text in place.
A job delivered twice (a worker killed mid-task) records the same text once.

Redis restarts: the audio store waits a few seconds for Redis (speech_audio), and a hand-over
that still fails raises HandOverUnavailable, which the ingest retries for a final cut. A job
whose worker died after storing a final's text does, when delivered again, what followed the
store (the notes' trigger) instead of recognising it a second time.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from dataclasses import asdict, dataclass
from typing import Any

from django.conf import settings

from assistant import jobs, metrics
from assistant.models import Meeting, Transcription
from assistant.services import meeting_language, streaming
from assistant.services.tracks import transcription_mode, wants_asr, wants_native
from assistant.services.transcript import (
    Recognised,
    asr_version,
    final_recognition_delivered_again,
    record_recognition,
)
from assistant.speech_audio import FINAL_REVISION, AudioStore, AudioStoreUnavailable, audio_store
from assistant.transcription.engine import ContextPiece

log = logging.getLogger(__name__)

CONTEXT_TTL_S = 300  # a speaker quiet for this long is heard afresh

__all__ = [
    "HandOverUnavailable",
    "UtteranceJob",
    "hand_over_utterance",
    "set_transcription",
    "transcribe_utterance",
    "transcription_mode",
    "wants_asr",
    "wants_native",
]


@dataclass(frozen=True)
class UtteranceJob:
    """What an `asr` job is told about one cut of an utterance (JSON-safe)."""

    meeting_id: int
    speaker_user_id: int | None
    speaker_name: str
    utterance_start_ms: int  # names the utterance: its provisional cuts and its final share it
    start_ms: int  # of this cut (a provisional window may start later than the utterance)
    end_ms: int
    revision: int
    final: bool
    # When the end of this cut's audio reached the ingest (Unix time), for the caption latency;
    # None from an ingest that did not say.
    heard_at: float | None = None

    @classmethod
    def from_task(cls, fields: dict[str, Any]) -> UtteranceJob:
        """The job a task was sent; fields this version does not know are left out.

        A newer ingest may add fields (as `heard_at` was added): a worker deployed before it
        still runs its jobs, whichever of the two is upgraded first.
        """
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(fields) - known)
        if unknown:
            log.debug("asr job fields %s not known here: left out", ", ".join(unknown))
        return cls(**{name: value for name, value in fields.items() if name in known})

    @property
    def utterance_key(self) -> str:
        """The store's name of the utterance (its newest revision is kept under it)."""
        return f"asr:utt:{self.meeting_id}:{self.speaker_user_id}:{self.utterance_start_ms}"

    @property
    def audio_key(self) -> str:
        """The store's name of this cut's audio."""
        return f"{self.utterance_key}:{FINAL_REVISION if self.final else self.revision}"

    @property
    def speaker_key(self) -> str:
        """The store's name of the speaker's context (their latest finals' speech and text)."""
        return f"asr:ctx:{self.meeting_id}:{self.speaker_user_id}"

    @property
    def rank(self) -> int:
        """The cut's place among the utterance's cuts (the final outranks them all)."""
        return FINAL_REVISION if self.final else self.revision


class HandOverUnavailable(Exception):
    """The audio store or the broker cannot be reached now; the same hand-over may be retried."""


def hand_over_utterance(job: UtteranceJob, pcm: bytes) -> None:
    """Keep the cut's audio and queue its recognition (blocking: call it off the event loop).

    Raises HandOverUnavailable when Redis cannot be reached; handing the same cut over again
    is safe (the audio is put under the same key; a job queued twice records its text once).
    """
    try:
        audio_store().put(job.audio_key, pcm, job.utterance_key, job.rank)
        # A draft waits behind the queue's finals: a backlog of drafts never delays a final.
        submit = jobs.submit if job.final else jobs.submit_behind_others
        submit(jobs.TRANSCRIBE_UTTERANCE, **asdict(job))
    except (AudioStoreUnavailable, jobs.JobNotQueued) as exc:
        raise HandOverUnavailable(str(exc)) from exc


def transcribe_utterance(job: UtteranceJob) -> None:
    """Recognise one cut and record its text; a stale, late or expired cut is skipped."""
    store = audio_store()
    newest = store.newest_revision(job.utterance_key)
    if not job.final and newest is not None and newest > job.rank:
        log.info("asr %s rev %d: skipped, a later cut is queued", job.utterance_key, job.rank)
        return
    if late := streaming.skipped_under_load(job):
        log.info("asr %s rev %d: skipped under load (%s)", job.utterance_key, job.rank, late)
        metrics.provisional_skipped()
        return
    stored = asr_version(job.meeting_id, job.speaker_user_id, job.utterance_start_ms)
    if stored is not None and (stored[0] or (not job.final and stored[1] >= job.rank)):
        log.info("asr %s rev %d: already recorded", job.utterance_key, job.rank)
        if job.final and stored[0]:
            # This final was stored by an earlier delivery, whose worker may have died before
            # what follows the store: do that again (it is idempotent), and drop the audio.
            final_recognition_delivered_again(
                job.meeting_id, job.speaker_user_id, job.utterance_start_ms
            )
            _forget(store, job.audio_key)
        return
    pcm = store.get(job.audio_key)
    if pcm is None:
        log.warning("asr %s rev %d: audio expired before its job ran", job.utterance_key, job.rank)
        return
    from assistant.transcription import recognise  # loads nothing until a job runs

    language = _meeting_language(job.meeting_id)
    context = _context(store, job) if job.final else SpeakerContext(0, ())
    result = recognise(
        pcm,
        final=job.final,
        language=language,
        context=context.pieces,
        context_s=settings.ASR_CONTEXT_S,
        prompt=context.pieces[-1].text if context.pieces else "",
        committed=streaming.committed_prefix(store, job),
        timed=streaming.wants_word_times(job),
    )
    shown = (
        streaming.Caption(result.text, 0)
        if job.final
        else streaming.provisional_caption(store, job, result.text, streaming.settled_words(result))
    )
    caption = None
    if shown is not None:
        caption = record_recognition(
            job.meeting_id,
            Recognised(
                speaker_user_id=job.speaker_user_id,
                speaker_name=job.speaker_name,
                utterance_start_ms=job.utterance_start_ms,
                start_ms=job.utterance_start_ms,
                end_ms=job.end_ms,
                text=shown.text,
                language=result.language,
                revision=job.rank,
                final=job.final,
                tentative_words=shown.tentative_words,
            ),
        )
    if caption is not None:
        metrics.caption_stored(job.heard_at, final=job.final)
    if job.final:
        _lock_language(job.meeting_id, language, result.language)
        _forget(store, job.audio_key)
        streaming.forget(store, job)
        streaming.final_stored(store, job)
        if result.text and settings.ASR_CONTEXT_S > 0:
            piece = ContextPiece(result.speech_pcm16, result.text)
            later = context.extended(piece, job.end_ms, settings.ASR_CONTEXT_S)
            try:
                store.keep(job.speaker_key, later.to_bytes(), CONTEXT_TTL_S)
            except AudioStoreUnavailable as exc:
                # The text is stored; the speaker's next final is heard with less context.
                log.warning("asr %s: speaker context not kept (%s)", job.speaker_key, exc)
    log.info(
        "asr %s rev %d: %.1f s of audio (after %.1f s of context) in %.2f s%s",
        job.utterance_key,
        job.rank,
        result.audio_s,
        result.context_s,
        result.decode_s,
        f" (rejected: {result.rejected})" if result.rejected else "",
    )


@dataclass(frozen=True)
class SpeakerContext:
    """A speaker's latest finals (speech and text, oldest first) and where the last one ended.

    Kept in the audio store between jobs, so the next final of the same speaker is recognised
    after them (engine.recognise). Several workers may race on it: the last write wins, and a
    context that ends after the utterance being recognised is not used, so at worst a final is
    recognised with less context, never with the wrong one.
    """

    end_ms: int
    pieces: tuple[ContextPiece, ...]

    def extended(self, piece: ContextPiece, end_ms: int, limit_s: float) -> SpeakerContext:
        """With one more final, keeping only the newest pieces within `limit_s`."""
        pieces = [*self.pieces, piece]
        while len(pieces) > 1 and sum(p.seconds for p in pieces) > limit_s:
            pieces.pop(0)
        return SpeakerContext(max(self.end_ms, end_ms), tuple(pieces))

    def to_bytes(self) -> bytes:
        """A JSON header (its length in 4 bytes first), then each piece's PCM in order."""
        header = json.dumps(
            {"end_ms": self.end_ms, "pieces": [[len(p.pcm16), p.text] for p in self.pieces]}
        ).encode()
        return b"".join([len(header).to_bytes(4, "big"), header, *(p.pcm16 for p in self.pieces)])

    @classmethod
    def from_bytes(cls, blob: bytes) -> SpeakerContext:
        size = int.from_bytes(blob[:4], "big")
        header = json.loads(blob[4 : 4 + size])
        pieces, at = [], 4 + size
        for length, text in header["pieces"]:
            pieces.append(ContextPiece(blob[at : at + length], str(text)))
            at += length
        return cls(int(header["end_ms"]), tuple(pieces))


def _forget(store: AudioStore, audio_key: str) -> None:
    """Drop a recognised cut's audio; if the store is unreachable its TTL drops it later."""
    try:
        store.delete(audio_key)
    except AudioStoreUnavailable as exc:
        log.warning("asr %s: audio left to expire (%s)", audio_key, exc)


def _context(store: AudioStore, job: UtteranceJob) -> SpeakerContext:
    """The speaker's context for this final, if it was all said before it."""
    none = SpeakerContext(0, ())
    if settings.ASR_CONTEXT_S <= 0:
        return none
    blob = store.get(job.speaker_key)
    if blob is None:
        return none
    try:
        context = SpeakerContext.from_bytes(blob)
    except (ValueError, KeyError, TypeError, IndexError):
        log.warning("asr %s: unreadable speaker context ignored", job.speaker_key)
        return none
    return context if context.end_ms <= job.utterance_start_ms else none


def _meeting_language(meeting_id: int) -> str | None:
    """The meeting's chosen language (its host's, else MEETING_LANGUAGE), else the language
    its recognition locked on, else None for WHISPER_LANGUAGE."""
    meeting = Meeting.objects.filter(pk=meeting_id).only("language", "asr_language").first()
    if meeting is None:
        return None
    return meeting_language.whisper_language(meeting) or meeting.asr_language or None


def _lock_language(meeting_id: int, asked: str | None, detected: str) -> None:
    """With detection on, the first final's language holds for the rest of the meeting."""
    if asked is None and settings.WHISPER_LANGUAGE == "auto" and detected:
        Meeting.objects.filter(pk=meeting_id, asr_language="").update(asr_language=detected)


def set_transcription(meeting_id: int, mode: str, *, record_audio: bool | None) -> Meeting:
    """Choose whose transcript a meeting gets ("" = the setting) and whether its audio is
    recorded (None = the setting); the ingest is told apart."""
    if mode and mode not in Transcription.values:
        raise ValueError(f"transcription must be one of {', '.join(Transcription.values)}")
    Meeting.objects.filter(pk=meeting_id).update(transcription=mode, record_audio=record_audio)
    return Meeting.objects.get(pk=meeting_id)
