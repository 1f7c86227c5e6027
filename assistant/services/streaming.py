"""Early decodes of an utterance in progress: which run under load, what their caption shows.

An `asr` worker decodes a running utterance about once a second (the ingest's provisional cuts,
ASR_PROVISIONAL_EVERY_MS), and the caption grows word by word: its stable words are committed
and never taken back; the words after them are shown as tentative. Which words are stable is
ASR_PROVISIONAL_POLICY's (assistant.transcription.stability): "attention", those Whisper's
alignment heads place at least ASR_STABLE_MARGIN_MS before the end of the audio heard (one
decode suffices; a decode without word times falls back to agreement), or "agreement", those
two consecutive decodes agree on (LocalAgreement-2). The next decode starts from the committed
words (a forced prefix), so it spends its time on what is new. The utterance's streaming state
sits in the audio store beside its audio (with a TTL), so any worker can take its next cut.
"latest" is the previous policy: each decode's whole text.

Under load the job's age tells (its `heard_at`): early decodes off the old 3 s cadence are
skipped first, then every provisional cut; finals always run. A final that comes later than
ASR_BEHIND_MS turns on a "captions are behind" status on the live page (a `captions` event),
and one back under half of it turns it off.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings

from assistant import events
from assistant.services import live
from assistant.speech_audio import AudioStore, AudioStoreUnavailable
from assistant.transcription.stability import Agreement, settled_prefix, words_of

if TYPE_CHECKING:
    from assistant.services.speech import UtteranceJob
    from assistant.transcription.engine import Recognition

log = logging.getLogger(__name__)

AGREEMENT_N = 2  # LocalAgreement-2: two consecutive decodes must agree
PREVIOUS_CADENCE_MS = 3000  # under load, early decodes fall back to this cadence first
BEHIND_TTL_S = 600  # a meeting's "behind" flag is forgotten after this long without finals
SWAP_ATTEMPTS = 3  # a draft's state written over a concurrent worker's: read again this often
STREAMING_POLICIES = ("attention", "agreement")  # those that commit words (not "latest")


@dataclass(frozen=True)
class Caption:
    """What a provisional decode shows: committed words, then tentative ones."""

    text: str
    tentative_words: int


def lag_ms(job: UtteranceJob) -> float | None:
    """How old the job's audio is now (ms since its end reached the ingest), if it says."""
    return None if job.heard_at is None else (time.time() - job.heard_at) * 1000


def is_early(revision: int) -> bool:
    """Whether a provisional revision is one the previous 3 s cadence would not have made."""
    every = settings.ASR_PROVISIONAL_EVERY_MS
    if every <= 0:
        return False
    stride = max(1, round(PREVIOUS_CADENCE_MS / every))
    return (revision + 1) % stride != 0


def skipped_under_load(job: UtteranceJob) -> str:
    """Why a provisional cut is not decoded now ("" when it is); finals are never skipped."""
    lag = lag_ms(job)
    if job.final or lag is None:
        return ""
    if lag > settings.ASR_PROVISIONAL_MAX_LAG_MS:
        return f"provisional cut {lag:.0f} ms late"
    if lag > settings.ASR_EARLY_DECODE_MAX_LAG_MS and is_early(job.revision):
        return f"early decode {lag:.0f} ms late"
    return ""


def _state_key(job: UtteranceJob) -> str:
    return f"{job.utterance_key}:agreement"


def _state(store: AudioStore, job: UtteranceJob) -> tuple[int, Agreement]:
    """(revision it was left by, state) of the utterance's agreement; (-1, empty) at first."""
    return _parsed(store.get(_state_key(job)), job)


def _parsed(blob: bytes | None, job: UtteranceJob) -> tuple[int, Agreement]:
    if blob is None:
        return -1, Agreement()
    try:
        data = json.loads(blob)
        hypotheses = tuple(tuple(str(w) for w in h) for h in data["hypotheses"])
        return int(data["revision"]), Agreement(hypotheses, tuple(data["committed"]))
    except (ValueError, KeyError, TypeError):
        log.warning("asr %s: unreadable streaming state ignored", job.utterance_key)
        return -1, Agreement()


def committed_prefix(store: AudioStore, job: UtteranceJob) -> str:
    """The words an early decode is made to start with (the committed ones, or none)."""
    if job.final or not commits_words():
        return ""
    return _state(store, job)[1].text


def commits_words() -> bool:
    """Whether drafts grow by committed words: each is then decoded from its utterance's start."""
    return settings.ASR_PROVISIONAL_POLICY in STREAMING_POLICIES


def wants_word_times(job: UtteranceJob) -> bool:
    """Whether the job's decode should time its words (the attention policy's drafts)."""
    return not job.final and settings.ASR_PROVISIONAL_POLICY == "attention"


def settled_words(recognition: Recognition) -> int | None:
    """How many leading words of a draft the attention policy holds stable (None: untimed)."""
    if settings.ASR_PROVISIONAL_POLICY != "attention" or not recognition.word_ends_before_edge_s:
        return None
    return settled_prefix(
        recognition.word_ends_before_edge_s, margin_s=settings.ASR_STABLE_MARGIN_MS / 1000
    )


def provisional_caption(
    store: AudioStore, job: UtteranceJob, hypothesis: str, settled: int | None = None
) -> Caption | None:
    """The caption after an early decode's hypothesis; None when it shows nothing new.

    `settled`: how many of its leading words the attention policy holds stable (None: let two
    consecutive hypotheses decide).
    """
    if not commits_words():
        return Caption(hypothesis, len(words_of(hypothesis)))  # all of it may change
    key = _state_key(job)
    for _attempt in range(SWAP_ATTEMPTS):
        try:
            before = store.get(key)
        except AudioStoreUnavailable as exc:
            log.warning("asr %s: streaming state not read (%s)", job.utterance_key, exc)
            return None
        revision, state = _parsed(before, job)
        if revision >= job.revision:
            return None  # a later cut of this utterance was decoded first
        later = state.heard(words_of(hypothesis), AGREEMENT_N, settled)
        blob = json.dumps(
            {"revision": job.revision, "hypotheses": later.hypotheses, "committed": later.committed}
        ).encode()
        try:
            # Only over the state read: a worker that wrote meanwhile is heard, not overwritten.
            if store.swap(key, before, blob, settings.ASR_AUDIO_TTL_S):
                break
        except AudioStoreUnavailable as exc:
            log.warning("asr %s: streaming state not kept (%s)", job.utterance_key, exc)
            return None
    else:
        return None
    caption = _caption(later)
    if caption == _caption(state) or not caption.text:
        return None
    return caption


def _caption(state: Agreement) -> Caption:
    """The committed words, then the newest hypothesis's words after them (tentative)."""
    tentative = state.hypotheses[-1][len(state.committed) :] if state.hypotheses else ()
    return Caption(" ".join((*state.committed, *tentative)), len(tentative))


def forget(store: AudioStore, job: UtteranceJob) -> None:
    """Drop the utterance's streaming state once its final is stored (else its TTL does)."""
    try:
        store.delete(_state_key(job))
    except AudioStoreUnavailable as exc:
        log.warning("asr %s: streaming state left to expire (%s)", job.utterance_key, exc)


def final_stored(store: AudioStore, job: UtteranceJob) -> None:
    """Note how late a final came; tell the viewers when captions fall behind or catch up."""
    lag = lag_ms(job)
    if lag is None:
        return
    key = f"asr:behind:{job.meeting_id}"
    try:
        was_behind = store.get(key) == b"1"
        behind = lag > settings.ASR_BEHIND_MS or (was_behind and lag > settings.ASR_BEHIND_MS / 2)
        store.keep(key, b"1" if behind else b"0", BEHIND_TTL_S)
    except AudioStoreUnavailable as exc:
        log.warning("asr meeting %s: captions' lag not noted (%s)", job.meeting_id, exc)
        return
    if behind != was_behind:
        log.info("asr meeting %s: captions %s", job.meeting_id, "behind" if behind else "caught up")
        live.append(
            job.meeting_id,
            lambda seq: events.CaptionsPayload(
                type=events.CAPTIONS, seq=seq, behind=behind, lag_ms=round(lag)
            ),
        )
