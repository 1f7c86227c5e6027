"""Cutting one participant's audio frames into utterances: voice onset, offset, windows.

Pure and cheap (a few microseconds a frame, no I/O): it runs on the ingest's event loop. Input is
RTMS L16 audio, 16 kHz mono, in frames of about 20 ms stamped on the stream clock (ms). Zoom
sends a participant's frames only while they make sound, so an utterance ends either on quiet
frames or on a gap in time: a later frame that starts long after the last voiced one (a buffered
burst replays such gaps quickly), or no frame at all for a while (`flush`, called on a timer).

What comes out is a `Cut`: the utterance so far, provisional while it goes on (every
`provisional_every_ms` of voice, over at most the last `window_ms`), final when it ends or when
it reaches `max_utterance_ms` (then it is cut at its quietest point near the end, and the
next one starts there). Memory is bounded by `max_utterance_ms` of PCM, whatever the audio does.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

SAMPLE_RATE = 16_000
BYTES_PER_MS = SAMPLE_RATE * 2 // 1000  # 16-bit mono
QUIETEST_FLOOR_DBFS = -70.0  # where the noise floor starts, and returns to on digital silence
SILENT_GAP_MS = 60  # frames missing this long are digital silence (Zoom sends none for it)
FORCED_CUT_SEARCH_MS = 2000  # a too long utterance is cut at the quietest point this near its end


@dataclass(frozen=True)
class CutterSettings:
    """How voice is told from quiet, and how utterances are cut."""

    # A frame is voiced above this level (dBFS) and above the noise floor plus the margin.
    voice_dbfs: float = -50.0
    noise_margin_db: float = 10.0
    floor_rise_db_per_s: float = 3.0  # how fast the noise floor follows a steady sound
    onset_ms: int = 40  # this much voice in a row starts an utterance
    preroll_ms: int = 200  # kept from before the onset (soft starts of words)
    hangover_ms: int = 350  # this much quiet ends an utterance
    provisional_every_ms: int = 3000  # of voice, between provisional cuts; 0 = none
    window_ms: int = 10_000  # a provisional cut covers at most this much of the end
    max_utterance_ms: int = 20_000  # a final cut is forced at this length
    max_frame_ms: int = 1000  # a longer frame is cut to this (a flood must stay bounded)


@dataclass(frozen=True)
class Cut:
    """An utterance (or the part of it so far) to recognise."""

    start_ms: int  # stream clock, first sample
    end_ms: int  # stream clock, after the last sample
    pcm: bytes
    revision: int  # 0, 1, 2... for the provisional cuts of one utterance; the final is last
    final: bool
    utterance_start_ms: int  # names the utterance (a provisional window may start later)


def frame_dbfs(pcm: bytes) -> float:
    """RMS level of 16-bit PCM in dB below full scale (-inf for digital silence)."""
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
    if samples.size == 0:
        return -math.inf
    # One dot product: a quarter of the cost of mean(samples * samples) on a 20 ms frame.
    rms = math.sqrt(float(samples.dot(samples)) / samples.size)
    return 20.0 * math.log10(rms / 32768.0) if rms > 0 else -math.inf


@dataclass
class UtteranceCutter:
    """One participant's audio in, cuts out (call `feed` per frame and `flush` on a timer)."""

    settings: CutterSettings = field(default_factory=CutterSettings)
    noise_floor_dbfs: float = QUIETEST_FLOOR_DBFS
    odd_frames: int = 0  # frames with an odd byte count (the last byte is dropped)
    long_frames: int = 0  # frames longer than max_frame_ms (cut)
    # Set when the frames' sizes disagree with their timestamps for a while: the audio is not
    # 16 kHz as announced, and all of it is dropped from then on (it would be garbled).
    wrong_rate: bool = False
    _rate_misses: int = 0
    _last_frame: tuple[int, int] | None = None  # (timestamp, duration) of the previous frame
    _frames_end_ms: int | None = None  # where the last frame ended on the stream clock
    _preroll: bytearray = field(default_factory=bytearray)
    _preroll_start_ms: int | None = None
    _pcm: bytearray = field(default_factory=bytearray)
    _start_ms: int | None = None  # of the utterance in progress
    _voice_run_ms: int = 0  # voiced ms in a row while quiet (onset)
    _quiet_ms: int = 0  # quiet ms since the last voiced frame, within the utterance
    _last_voice_end_ms: int = 0
    _voiced_since_cut_ms: int = 0
    _revision: int = 0

    @property
    def speaking(self) -> bool:
        """Whether an utterance is in progress."""
        return self._start_ms is not None

    def feed(self, pcm: bytes, timestamp_ms: int) -> list[Cut]:
        """Take one frame starting at `timestamp_ms`; the cuts it completes."""
        pcm = self._sanitised(pcm)
        if not pcm or self._rate_is_wrong(len(pcm) // BYTES_PER_MS, timestamp_ms):
            return []
        duration_ms = len(pcm) // BYTES_PER_MS
        self._silence_between(timestamp_ms, duration_ms)
        cuts = self._gap_before(timestamp_ms)
        voiced = self._is_voiced(pcm, duration_ms)
        if self._start_ms is None:
            self._while_quiet(pcm, timestamp_ms, duration_ms, voiced)
            return cuts
        self._pad_to(timestamp_ms)
        self._pcm += pcm
        if voiced:
            self._quiet_ms = 0
            self._last_voice_end_ms = timestamp_ms + duration_ms
            self._voiced_since_cut_ms += duration_ms
        else:
            self._quiet_ms += duration_ms
        cuts += self._cuts_due(timestamp_ms + duration_ms)
        return cuts

    def flush(self, now_stream_ms: int | None = None) -> list[Cut]:
        """End the utterance in progress: always, or only if it has been quiet long enough.

        With `now_stream_ms` (the stream time it is now), an utterance whose last voice is at
        least a hangover old ends; without it (the stream ended), any utterance ends.
        """
        if self._start_ms is None:
            return []
        quiet_ms = None if now_stream_ms is None else now_stream_ms - self._last_voice_end_ms
        if quiet_ms is not None and quiet_ms < self.settings.hangover_ms:
            return []
        return [self._final()]

    # --- internals ---------------------------------------------------------------------

    def _sanitised(self, pcm: bytes) -> bytes:
        if len(pcm) % 2:
            self.odd_frames += 1
            pcm = pcm[:-1]
        limit = self.settings.max_frame_ms * BYTES_PER_MS
        if len(pcm) > limit:
            self.long_frames += 1
            pcm = pcm[:limit]
        return pcm

    def _rate_is_wrong(self, duration_ms: int, timestamp_ms: int) -> bool:
        """Whether frames keep covering more or less time than their timestamps advance."""
        if self.wrong_rate:
            return True
        previous, self._last_frame = self._last_frame, (timestamp_ms, duration_ms)
        if previous is None:
            return False
        step = timestamp_ms - previous[0]
        if not 0 < step <= 100:
            return False  # a gap (silence is not sent) or a replayed burst says nothing
        ratio = previous[1] / step
        self._rate_misses = self._rate_misses + 1 if not 0.75 <= ratio <= 1.33 else 0
        self.wrong_rate = self._rate_misses >= 25  # half a second of 20 ms frames
        if self.wrong_rate:
            # What was gathered so far is garbled too: nothing of it is handed over.
            self._start_ms = None
            self._pcm = bytearray()
            self._reset_onset()
        return self.wrong_rate

    def _silence_between(self, timestamp_ms: int, duration_ms: int) -> None:
        """No frames for a while is Zoom's digital silence: the noise floor drops as for zeros.

        Otherwise the floor, which creeps up through speech, would stay up across the pauses
        Zoom leaves out, and the soft starts and ends of the next words would count as quiet.
        """
        end = self._frames_end_ms
        self._frames_end_ms = timestamp_ms + duration_ms
        if end is not None and timestamp_ms - end >= SILENT_GAP_MS:
            self.noise_floor_dbfs = min(self.noise_floor_dbfs, QUIETEST_FLOOR_DBFS)

    def _pad_to(self, timestamp_ms: int) -> None:
        """Fill a short gap in time with silence: the utterance keeps its real timing."""
        assert self._start_ms is not None
        gap_ms = timestamp_ms - (self._start_ms + len(self._pcm) // BYTES_PER_MS)
        if gap_ms > 0:
            self._pcm += bytes(gap_ms * BYTES_PER_MS)
            self._quiet_ms += gap_ms

    def _is_voiced(self, pcm: bytes, duration_ms: int) -> bool:
        level = frame_dbfs(pcm)
        if level == -math.inf:
            # Digital silence: quiet, and no hum or fan behind it either.
            self.noise_floor_dbfs = min(self.noise_floor_dbfs, QUIETEST_FLOOR_DBFS)
            return False
        floor = self.noise_floor_dbfs
        threshold = max(self.settings.voice_dbfs, floor + self.settings.noise_margin_db)
        voiced = level > threshold
        if level < floor:
            self.noise_floor_dbfs = level  # down at once
        elif not voiced:
            self.noise_floor_dbfs = floor + 0.05 * (level - floor)
        else:
            # Up slowly even through "voice": a steady hum stops counting as voice after a
            # few seconds, while the floor under real speech stays far below the speech.
            rise = self.settings.floor_rise_db_per_s * duration_ms / 1000
            self.noise_floor_dbfs = min(level, floor + rise)
        return voiced

    def _gap_before(self, timestamp_ms: int) -> list[Cut]:
        """A frame far after the last voice ends the utterance before it (no frames = quiet)."""
        if (
            self._start_ms is not None
            and timestamp_ms - self._last_voice_end_ms >= self.settings.hangover_ms
        ):
            return [self._final()]
        if self._preroll_start_ms is not None:
            expected = self._preroll_start_ms + len(self._preroll) // BYTES_PER_MS
            if timestamp_ms - expected >= self.settings.hangover_ms:
                self._reset_onset()
        return []

    def _while_quiet(self, pcm: bytes, timestamp_ms: int, duration_ms: int, voiced: bool) -> None:
        """Keep a short pre-roll; start an utterance after `onset_ms` of voice in a row."""
        if self._preroll_start_ms is None:
            self._preroll_start_ms = timestamp_ms
        self._preroll += pcm
        excess = len(self._preroll) - self.settings.preroll_ms * BYTES_PER_MS
        if excess > 0 and not voiced:
            del self._preroll[:excess]
            self._preroll_start_ms += excess // BYTES_PER_MS
        self._voice_run_ms = self._voice_run_ms + duration_ms if voiced else 0
        if self._voice_run_ms >= self.settings.onset_ms:
            self._start_ms = self._preroll_start_ms
            self._pcm = self._preroll
            self._preroll = bytearray()
            self._preroll_start_ms = None
            self._last_voice_end_ms = timestamp_ms + duration_ms
            self._voiced_since_cut_ms = self._voice_run_ms
            self._quiet_ms = 0
            self._voice_run_ms = 0

    def _cuts_due(self, now_ms: int) -> list[Cut]:
        assert self._start_ms is not None
        if self._quiet_ms >= self.settings.hangover_ms:
            return [self._final()]
        if len(self._pcm) >= self.settings.max_utterance_ms * BYTES_PER_MS:
            return [self._forced_final(now_ms)]
        every = self.settings.provisional_every_ms
        if every and self._voiced_since_cut_ms >= every:
            self._voiced_since_cut_ms = 0
            return [self._provisional(now_ms)]
        return []

    def _provisional(self, now_ms: int) -> Cut:
        assert self._start_ms is not None
        window = self.settings.window_ms * BYTES_PER_MS
        pcm = bytes(self._pcm[-window:])
        start = now_ms - len(pcm) // BYTES_PER_MS
        cut = Cut(start, now_ms, pcm, self._revision, False, self._start_ms)
        self._revision += 1
        return cut

    def _forced_final(self, now_ms: int) -> Cut:
        """A too long utterance ends at the quietest 20 ms of its last 2 s, not mid-word.

        What follows that point goes on as the next utterance (already speaking).
        """
        assert self._start_ms is not None
        per_frame = 20 * SAMPLE_RATE // 1000  # samples in 20 ms
        search_ms = min(FORCED_CUT_SEARCH_MS, self.settings.max_utterance_ms // 4)
        search = min(len(self._pcm), search_ms * BYTES_PER_MS)
        tail = np.frombuffer(bytes(self._pcm[-search:]), dtype="<i2").astype(np.float64)
        tail = tail[: len(tail) // per_frame * per_frame]
        energy = np.square(tail).reshape(-1, per_frame).sum(axis=1)
        # The latest of the quietest frames: a steady sound is cut as late as possible.
        quiet = np.flatnonzero(energy <= energy.min() * 1.1) if len(energy) else np.array([])
        quietest = int(quiet[-1]) * per_frame * 2 if len(quiet) else search
        split = len(self._pcm) - search + quietest
        start, rest = self._start_ms, bytes(self._pcm[split:])
        cut = self._final(end_ms=start + split // BYTES_PER_MS)
        if rest:
            self._start_ms = start + split // BYTES_PER_MS
            self._pcm = bytearray(rest)
            self._last_voice_end_ms = now_ms
            self._voiced_since_cut_ms = len(rest) // BYTES_PER_MS
        return cut

    def _final(self, end_ms: int | None = None) -> Cut:
        """The whole utterance, up to a little after its last voice; the cutter is quiet again."""
        assert self._start_ms is not None
        start = self._start_ms
        if end_ms is None:
            tail_ms = min(self._quiet_ms, self.settings.preroll_ms)
            end_ms = self._last_voice_end_ms + tail_ms
        keep = max(0, min(len(self._pcm), (end_ms - start) * BYTES_PER_MS))
        end = start + keep // BYTES_PER_MS
        cut = Cut(start, end, bytes(self._pcm[:keep]), self._revision, True, start)
        self._start_ms = None
        self._pcm = bytearray()
        self._revision = 0
        self._quiet_ms = 0
        self._voiced_since_cut_ms = 0
        self._reset_onset()
        return cut

    def _reset_onset(self) -> None:
        self._preroll = bytearray()
        self._preroll_start_ms = None
        self._voice_run_ms = 0
