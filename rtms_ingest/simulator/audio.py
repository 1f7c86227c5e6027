"""Cutting the fixture's WAV tracks into RTMS audio frames, per participant or mixed.

Exactly which frames are sent (so a test can compute the byte total):
- The fixture audio is 16 kHz mono L16; it is always sent as such (raw L16, 16 kHz, mono),
  whatever the client asked for, and the data handshake response says so.
- With `send_rate` = d ms, frame k covers stream time [k*d, (k+1)*d) ms, holds 16*d samples
  (32*d bytes) and is due at (k+1)*d ms. Only whole frames inside the meeting are sent:
  k < floor(duration_ms / d), with duration_ms = round(duration_s * 1000).
- A track shorter than that is padded with silence; an all-zero frame is never sent.
- AUDIO_MULTI_STREAMS: for each participant with a WAV, frame k is sent (with that user_id)
  iff its samples are not all zero. Within one k, frames go out by ascending user_id.
- AUDIO_MIXED_STREAM: frame k is the sample-wise sum of every track, clipped to int16, and is
  sent (with user_id 0) iff that sum is not all zero.
- Buffered audio (clock_start "webhook", reference §7): with CLIENT_READY_ACK at stream time
  R, the frames due by R (due time <= R) and starting at or after R - 60 s are sent right
  after it, in the usual order and with their own timestamps; then frames due after R, live.
  buffer_data false sends none of those due by R.
`expected_audio_bytes` applies these rules to a meeting.
"""

from __future__ import annotations

import asyncio
import base64
import bisect
import sys
from array import array
from dataclasses import dataclass, field

from rtms_ingest.protocol import (
    AudioChannel,
    AudioCodec,
    AudioContentType,
    AudioDataOption,
    AudioParams,
    AudioSampleRate,
)
from rtms_ingest.simulator.config import Status
from rtms_ingest.simulator.fixture import RecordedMeeting, read_pcm16

SAMPLE_RATE = 16_000
BYTES_PER_MS = SAMPLE_RATE * 2 // 1000
DEFAULT_SEND_RATE_MS = 20
MAX_SEND_RATE_MS = 1000
DEFAULT_DATA_OPT = AudioDataOption.AUDIO_MIXED_STREAM
MIXED_USER_ID = 0
# Zoom keeps at most this much audio from the webhook until the client is ready (§7).
AUDIO_BUFFER_MS = 60_000


@dataclass(frozen=True)
class AudioFrame:
    """One frame to send: its index k, whose voice (0 = mixed) and the PCM bytes."""

    index: int
    user_id: int
    pcm: bytes
    b64: str = field(init=False, repr=False)

    def __post_init__(self) -> None:
        # Encoded once here and shared by every stream that plays this frame.
        object.__setattr__(self, "b64", base64.b64encode(self.pcm).decode("ascii"))


class FrameSchedule:
    """The frames of one (data_opt, send_rate) in send order, searchable by index."""

    def __init__(self, frames: list[AudioFrame], send_rate_ms: int) -> None:
        self.frames = frames
        self.send_rate_ms = send_rate_ms
        self._indexes = [frame.index for frame in frames]

    def due_between(self, after_ms: int, until_ms: int) -> list[AudioFrame]:
        """Frames due in (after_ms, until_ms], i.e. whose end time lies in that range."""
        first = bisect.bisect_left(self._indexes, after_ms // self.send_rate_ms)
        last = bisect.bisect_left(self._indexes, until_ms // self.send_rate_ms)
        return self.frames[first:last]

    def next_due_ms(self, after_ms: int) -> float:
        """When the first frame due after `after_ms` is due (inf when none is left)."""
        first = bisect.bisect_left(self._indexes, after_ms // self.send_rate_ms)
        if first == len(self._indexes):
            return float("inf")
        return (self._indexes[first] + 1) * self.send_rate_ms


def buffered_frames(schedule: FrameSchedule, ready_ms: int) -> tuple[list[AudioFrame], int]:
    """The frames due by `ready_ms` that start in its last 60 s, and how many were due in all."""
    due = schedule.due_between(0, ready_ms)
    oldest_ms = ready_ms - AUDIO_BUFFER_MS
    return [f for f in due if f.index * schedule.send_rate_ms >= oldest_ms], len(due)


class AudioLibrary:
    """The meeting's tracks, read once, and the frame schedules cut from them (cached)."""

    def __init__(self, tracks: dict[int, bytes], duration_ms: int) -> None:
        self.tracks = dict(sorted(tracks.items()))
        self.duration_ms = duration_ms
        self._schedules: dict[tuple[int, int], FrameSchedule] = {}

    @classmethod
    def load_sync(cls, meeting: RecordedMeeting) -> AudioLibrary:
        """Read every WAV of the meeting (blocking)."""
        tracks = {uid: read_pcm16(path) for uid, path in meeting.audio_files.items()}
        return cls(tracks, round(meeting.duration_s * 1000))

    @classmethod
    async def load(cls, meeting: RecordedMeeting) -> AudioLibrary:
        """Read every WAV of the meeting in a worker thread."""
        return await asyncio.to_thread(cls.load_sync, meeting)

    def schedule(self, data_opt: int, send_rate_ms: int) -> FrameSchedule:
        """The frames for this data_opt and frame length (computed once, then cached)."""
        key = (int(data_opt), send_rate_ms)
        if key not in self._schedules:
            self._schedules[key] = FrameSchedule(self._cut(*key), send_rate_ms)
        return self._schedules[key]

    def _cut(self, data_opt: int, send_rate_ms: int) -> list[AudioFrame]:
        frame_bytes = send_rate_ms * BYTES_PER_MS
        silence = bytes(frame_bytes)
        frames: list[AudioFrame] = []
        for k in range(self.duration_ms // send_rate_ms):
            start = k * frame_bytes
            voiced = [(uid, _slice(pcm, start, frame_bytes)) for uid, pcm in self.tracks.items()]
            voiced = [(uid, chunk) for uid, chunk in voiced if chunk != silence]
            if data_opt == AudioDataOption.AUDIO_MULTI_STREAMS:
                frames.extend(AudioFrame(k, uid, chunk) for uid, chunk in voiced)
            elif voiced:
                mixed = voiced[0][1] if len(voiced) == 1 else mix([c for _, c in voiced])
                if mixed != silence:
                    frames.append(AudioFrame(k, MIXED_USER_ID, mixed))
        return frames


def _slice(pcm: bytes, start: int, length: int) -> bytes:
    chunk = pcm[start : start + length]
    return chunk if len(chunk) == length else chunk + bytes(length - len(chunk))


def mix(chunks: list[bytes]) -> bytes:
    """Sum equal-length little-endian int16 chunks sample by sample, clipped to int16."""
    tracks = [array("h", chunk) for chunk in chunks]
    if sys.byteorder != "little":  # pragma: no cover - the wire format is little-endian
        for track in tracks:
            track.byteswap()
    out = array("h", (max(-32768, min(32767, sum(s))) for s in zip(*tracks, strict=True)))
    if sys.byteorder != "little":  # pragma: no cover
        out.byteswap()
    return out.tobytes()


def expected_audio_bytes(meeting: RecordedMeeting, data_opt: int, send_rate_ms: int) -> int:
    """The PCM byte total a whole played meeting sends for these audio params (blocking)."""
    library = AudioLibrary.load_sync(meeting)
    return sum(len(frame.pcm) for frame in library.schedule(data_opt, send_rate_ms).frames)


def negotiate_audio(requested: AudioParams | None) -> AudioParams | Status:
    """What will be sent for the requested audio params, or why they are refused.

    Values outside the protocol's enums are refused; a codec, rate or channel count the
    fixture cannot produce is answered with what is sent instead: raw L16, 16 kHz, mono.
    """
    asked = requested or AudioParams()
    checks = (
        (asked.content_type, AudioContentType, Status.INVALID_AUDIO_CONTENT_TYPE),
        (asked.codec, AudioCodec, Status.INVALID_AUDIO_CODEC),
        (asked.sample_rate, AudioSampleRate, Status.INVALID_AUDIO_SAMPLE_RATE),
        (asked.channel, AudioChannel, Status.INVALID_AUDIO_CHANNEL),
        (asked.data_opt, AudioDataOption, Status.INVALID_AUDIO_DATA_OPT),
    )
    for value, enum, status in checks:
        if value is not None and value not in {member.value for member in enum}:
            return status
    # A send_rate of 0 is read as "not given", like a missing one.
    send_rate = asked.send_rate or DEFAULT_SEND_RATE_MS
    if not 1 <= send_rate <= MAX_SEND_RATE_MS:
        return Status.INVALID_AUDIO_SEND_RATE
    return AudioParams(
        content_type=AudioContentType.RAW_AUDIO,
        codec=AudioCodec.L16,
        sample_rate=AudioSampleRate.SR_16K,
        channel=AudioChannel.MONO,
        data_opt=asked.data_opt or DEFAULT_DATA_OPT,
        send_rate=send_rate,
        frame_size=None if asked.frame_size is None else send_rate * SAMPLE_RATE // 1000,
    )
