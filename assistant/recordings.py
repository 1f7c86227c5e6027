"""Recorded audio of a meeting: one WAV file per participant, placed on the stream clock.

When a meeting is recorded (off by default: `RECORD_AUDIO`, or the meeting's own choice), the
ingest appends each participant's frames to `<RECORDINGS_DIR>/<meeting id>/<user id>.wav`
(16 kHz mono s16le, the header kept valid after every write, so a crash loses only the last
second). Zoom sends no frames while someone is silent, so short pauses are written as silence
and a longer one starts a new *anchor* instead of filling the disk with zeros; the anchors
(`<user id>.timeline.jsonl`, one JSON line each, appended) map any sample of the file back to
the stream clock, which is how a meeting is transcribed again later (`manage.py retranscribe`)
with its segments in the right place. Retention deletes the folder with the meeting.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
import time
import wave
from bisect import bisect_right
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from assistant.models import Meeting

log = logging.getLogger(__name__)

SAMPLE_RATE = 16_000
BYTES_PER_MS = SAMPLE_RATE * 2 // 1000  # s16le mono
JITTER_MS = 40  # timestamps this close to where the audio ends continue it
FILL_MAX_MS = 2_000  # a pause up to this long is written as silence; longer ones get an anchor

_TRACK = re.compile(r"^(-?\d+)\.wav$")
_MEETING = re.compile(r"^[1-9]\d*$")  # a meeting's folder: its id


def wants_recording(meeting: Meeting) -> bool:
    """The meeting's own choice, else the RECORD_AUDIO setting."""
    chosen = meeting.record_audio
    return settings.RECORD_AUDIO if chosen is None else chosen


def meeting_dir(meeting_id: int) -> Path:
    """Where a meeting's recordings are kept."""
    return Path(settings.RECORDINGS_DIR) / str(int(meeting_id))


def delete_recordings(meeting_id: int) -> int:
    """Delete a meeting's recordings; returns the bytes freed (0 if there were none)."""
    folder = meeting_dir(meeting_id)
    if not folder.is_dir():
        return 0
    freed = sum(path.stat().st_size for path in folder.iterdir() if path.is_file())
    shutil.rmtree(folder)
    log.info("meeting %s: recordings deleted (%d bytes)", meeting_id, freed)
    return freed


def _last_written(folder: Path) -> float:
    """The newest modification time of the folder and the files in it (seconds since epoch)."""
    times = [folder.stat().st_mtime]
    times += [path.stat().st_mtime for path in folder.iterdir() if path.is_file()]
    return max(times)


def orphan_folders(
    existing: Callable[[list[int]], set[int]], quiet_s: float, root: Path | None = None
) -> list[Path]:
    """Meeting folders under `root` (RECORDINGS_DIR) whose meeting does not exist and that
    nothing wrote for `quiet_s`.

    `existing(ids)` says which of the meeting ids still exist. A folder written lately is left
    for a later sweep: a stream's last flush may still be landing.
    """
    root = Path(settings.RECORDINGS_DIR) if root is None else root
    if not root.is_dir():
        return []
    folders = {int(path.name): path for path in root.iterdir() if _MEETING.match(path.name)}
    kept = existing(sorted(folders))
    cutoff = time.time() - quiet_s
    return [
        path
        for meeting_id, path in sorted(folders.items())
        if meeting_id not in kept and path.is_dir() and _last_written(path) < cutoff
    ]


@dataclass(frozen=True)
class Anchor:
    """From this sample of the file on, audio runs on from this stream time."""

    sample: int
    stream_ms: int
    name: str = ""


@dataclass(frozen=True)
class Placement:
    """Where a frame goes: after `silence_bytes` of zeros, or at a new anchor."""

    silence_bytes: int
    anchor: Anchor | None


class TrackTimeline:
    """Places one participant's frames on the file (pure: the writer does the I/O)."""

    def __init__(self) -> None:
        self.samples = 0  # written so far (frames and filled silence)
        self._end_ms: int | None = None  # stream time where the written audio ends
        self._name = ""

    def place(self, stream_ms: int, pcm_bytes: int, name: str = "") -> Placement:
        """Where a frame of `pcm_bytes` starting at `stream_ms` goes; advances the timeline."""
        renamed = bool(name) and name != self._name
        self._name = name or self._name
        gap_ms = None if self._end_ms is None else stream_ms - self._end_ms
        silence = 0
        anchor = None
        if gap_ms is None or gap_ms < -JITTER_MS or gap_ms > FILL_MAX_MS or renamed:
            if gap_ms is not None and 0 < gap_ms <= FILL_MAX_MS:
                silence = gap_ms * BYTES_PER_MS  # a renamed speaker: keep the pause anyway
                self.samples += silence // 2
            anchor = Anchor(self.samples, stream_ms, self._name)
        elif gap_ms > JITTER_MS:
            silence = gap_ms * BYTES_PER_MS
            self.samples += silence // 2
        self.samples += pcm_bytes // 2
        # Where the written audio ends on the stream clock: a frame within the jitter runs on
        # from the file's end, any other from its own time.
        starts = self._end_ms if anchor is None and not silence else stream_ms
        assert starts is not None
        self._end_ms = starts + pcm_bytes // BYTES_PER_MS
        return Placement(silence, anchor)

    def skipped(self) -> None:
        """Frames were dropped: the next one starts a new anchor, whatever its time."""
        self._end_ms = None


class TrackWriter:
    """Appends one participant's audio and anchors to their files (blocking: use a thread)."""

    def __init__(self, folder: Path, user_id: int) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        wav_path = folder / f"{user_id}.wav"
        self._timeline_path = folder / f"{user_id}.timeline.jsonl"
        self._wav = _open_for_append(wav_path)
        # A continued file (a reconnected stream): the new timeline counts from its end.
        self._base = self._wav.getnframes()

    def write(self, silence_bytes: int, anchor: Anchor | None, pcm: bytes) -> None:
        """Silence first, then the anchor (if any), then the frame's audio."""
        if silence_bytes:
            self._wav.writeframes(bytes(silence_bytes))
        if anchor is not None:
            with self._timeline_path.open("a", encoding="utf-8") as timeline:
                line = {
                    "sample": self._base + anchor.sample,
                    "stream_ms": anchor.stream_ms,
                    "name": anchor.name,
                }
                timeline.write(json.dumps(line) + "\n")
        self._wav.writeframes(pcm)  # the wave module rewrites the header's sizes each time

    def close(self) -> None:
        self._wav.close()


def _open_for_append(path: Path) -> wave.Wave_write:
    """A WAV writer; an existing file (a reconnected stream) is continued, not overwritten."""
    earlier = b""
    if path.exists():
        with wave.open(str(path), "rb") as old:
            earlier = old.readframes(old.getnframes())
    writer = wave.open(str(path), "wb")  # noqa: SIM115 (kept open by TrackWriter until close)
    writer.setnchannels(1)
    writer.setsampwidth(2)
    writer.setframerate(SAMPLE_RATE)
    if earlier:
        writer.writeframes(earlier)
    return writer


@dataclass(frozen=True)
class RecordedTrack:
    """One participant's recording, read back."""

    user_id: int
    name: str
    pcm: bytes  # 16 kHz mono s16le
    anchors: tuple[Anchor, ...]

    def stream_ms(self, sample: int) -> int:
        """The stream time of a sample of this recording."""
        if not self.anchors:
            return sample * 1000 // SAMPLE_RATE
        index = max(bisect_right([a.sample for a in self.anchors], sample) - 1, 0)
        anchor = self.anchors[index]
        return anchor.stream_ms + (sample - anchor.sample) * 1000 // SAMPLE_RATE

    def anchor_samples(self) -> list[int]:
        """Where the file jumps in stream time (audio must not be joined across these)."""
        return [a.sample for a in self.anchors[1:]]


def recorded_tracks(meeting_id: int) -> Iterator[RecordedTrack]:
    """Each participant's recording of a meeting, in user id order."""
    folder = meeting_dir(meeting_id)
    if not folder.is_dir():
        return
    tracks = sorted(
        (int(match.group(1)), path)
        for path in folder.iterdir()
        if (match := _TRACK.match(path.name))
    )
    for user_id, path in tracks:
        with wave.open(str(path), "rb") as wav:
            if (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) != (1, 2, SAMPLE_RATE):
                log.warning("%s: not 16 kHz mono 16-bit, skipped", path)
                continue
            pcm = wav.readframes(wav.getnframes())
        anchors = tuple(_read_anchors(folder / f"{user_id}.timeline.jsonl"))
        name = next((a.name for a in reversed(anchors) if a.name), "")
        yield RecordedTrack(user_id, name, pcm, anchors)


def _read_anchors(path: Path) -> Iterator[Anchor]:
    if not path.exists():
        return
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            entry = json.loads(line)
            yield Anchor(int(entry["sample"]), int(entry["stream_ms"]), str(entry.get("name", "")))
        except (ValueError, KeyError, TypeError):
            log.warning("%s: unreadable anchor line skipped", path)
