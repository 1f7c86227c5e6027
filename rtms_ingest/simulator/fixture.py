"""Load and validate recorded meetings, the folder format the RTMS simulator plays.

The format is described in docs/meeting-fixture.md: a folder holding ``meeting.json`` and,
optionally, ``audio/<user_id>.wav`` (16 kHz, mono, signed 16-bit PCM) per participant.
Everything here is pure: it reads the folder and nothing else, so the simulator, the demo, the
tests and the benchmarks all see the same validated meeting.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import math
import re
import wave
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn, TypeVar

from rtms_ingest.protocol import TranscriptLanguage

__all__ = [
    "AUDIO_CHANNELS",
    "AUDIO_LENGTH_TOLERANCE_S",
    "AUDIO_SAMPLE_RATE",
    "AUDIO_SAMPLE_WIDTH",
    "DEFAULT_LANGUAGE",
    "SAMPLE_MEETING_DIR",
    "FixtureChat",
    "FixtureParticipant",
    "FixtureShare",
    "FixtureSlide",
    "FixtureUtterance",
    "FixtureVideo",
    "MeetingFixtureError",
    "RecordedMeeting",
    "load_meeting",
    "read_pcm16",
    "sample_meeting",
]

MEETING_FILE = "meeting.json"
AUDIO_DIR = "audio"
AUDIO_SAMPLE_RATE = 16_000
AUDIO_CHANNELS = 1
AUDIO_SAMPLE_WIDTH = 2  # bytes: signed 16-bit PCM
# WAV lengths are whole samples and duration_s is written by hand to a tenth of a second or so.
AUDIO_LENGTH_TOLERANCE_S = 0.05
DEFAULT_LANGUAGE = "en"
# Seconds of stream after the last event when meeting.json gives no duration_s.
DEFAULT_TAIL_S = 1.0
SAMPLE_MEETING_DIR = Path(__file__).resolve().parent / "sample_meetings" / "weekly_sync"

# Pictures a share's slides and a participant's video are played from (the simulator sends them
# in the codec the client asks for).
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
_WAV_NAME = re.compile(r"^(0|[1-9][0-9]*)\.wav$")
_T = TypeVar("_T")


class MeetingFixtureError(ValueError):
    """A recorded meeting that cannot be played: which file, which field, and why."""

    def __init__(self, file: Path, field: str, reason: str) -> None:
        super().__init__(f"{file}: {field}: {reason}")
        self.file = file
        self.field = field
        self.reason = reason

    def __reduce__(self) -> tuple[type[MeetingFixtureError], tuple[Path, str, str]]:
        return (type(self), (self.file, self.field, self.reason))


@dataclasses.dataclass(frozen=True)
class FixtureParticipant:
    """Someone in the meeting; ``leave_s`` is None when they stay to the end."""

    user_id: int
    user_name: str
    join_s: float
    leave_s: float | None


@dataclasses.dataclass(frozen=True)
class FixtureUtterance:
    """One stretch of speech and its reference transcript."""

    user_id: int
    start_s: float
    end_s: float
    text: str
    # Zoom's transcript language id of the utterance (TranscriptLanguage), sent as the
    # frame's `language`; None leaves the field out.
    language: int | None = None


@dataclasses.dataclass(frozen=True)
class FixtureChat:
    """One chat message."""

    user_id: int
    at_s: float
    text: str


@dataclasses.dataclass(frozen=True)
class FixtureSlide:
    """One picture of a screen share, shown from `at_s` until the next one (or the share ends)."""

    at_s: float
    image: Path


@dataclasses.dataclass(frozen=True)
class FixtureShare:
    """One participant sharing their screen from `start_s` to `end_s`: a run of slides."""

    user_id: int
    start_s: float
    end_s: float
    slides: tuple[FixtureSlide, ...]

    def slide_at(self, t_s: float) -> FixtureSlide | None:
        """The slide on screen at t_s, or None outside the share."""
        if not self.start_s <= t_s < self.end_s:
            return None
        shown = [slide for slide in self.slides if slide.at_s <= t_s]
        return shown[-1] if shown else None


@dataclasses.dataclass(frozen=True)
class FixtureVideo:
    """One participant's camera, on from `start_s` to `end_s`, showing one still picture."""

    user_id: int
    start_s: float
    end_s: float
    image: Path


@dataclasses.dataclass(frozen=True)
class RecordedMeeting:
    """A validated recorded meeting; utterances and chat are sorted by time."""

    path: Path
    topic: str
    language: str
    duration_s: float
    participants: tuple[FixtureParticipant, ...]
    utterances: tuple[FixtureUtterance, ...]
    chat: tuple[FixtureChat, ...]
    audio_files: dict[int, Path] = dataclasses.field(hash=False)
    shares: tuple[FixtureShare, ...] = ()
    videos: tuple[FixtureVideo, ...] = ()

    def participant(self, user_id: int) -> FixtureParticipant:
        """Return the participant with this user_id; KeyError if there is none."""
        for participant in self.participants:
            if participant.user_id == user_id:
                return participant
        raise KeyError(user_id)

    def user_name(self, user_id: int) -> str:
        """Return the display name of this participant; KeyError if there is none."""
        return self.participant(user_id).user_name

    def present_at(self, t_s: float) -> tuple[FixtureParticipant, ...]:
        """Return who is in the meeting at t_s (joined at or before it, not yet left)."""
        return tuple(
            p
            for p in self.participants
            if p.join_s <= t_s and (p.leave_s is None or t_s < p.leave_s)
        )


def load_meeting(path: str | Path) -> RecordedMeeting:
    """Load and validate the recorded meeting in a folder (or at its meeting.json)."""
    given = Path(path)
    file = given if given.suffix == ".json" else given / MEETING_FILE
    folder = file.parent
    doc = _Checker(file)
    root = doc.of_type(_read_json(file), dict, "$", "an object")

    topic = doc.optional(root, "topic", "", lambda v, where: doc.string(v, where, empty=True))
    language = doc.optional(root, "language", DEFAULT_LANGUAGE, doc.string)
    participants = tuple(
        _participant(doc, item, f"participants[{i}]")
        for i, item in enumerate(doc.array(doc.required(root, "participants"), "participants"))
    )
    utterances = [
        _utterance(doc, item, f"utterances[{i}]")
        for i, item in enumerate(doc.optional_array(root, "utterances"))
    ]
    chat = [
        _chat(doc, item, f"chat[{i}]") for i, item in enumerate(doc.optional_array(root, "chat"))
    ]

    by_id = _index_participants(doc, participants)
    _check_presence(doc, by_id, utterances, chat)
    shares = [
        _share(doc, folder, item, f"share[{i}]")
        for i, item in enumerate(doc.optional_array(root, "share"))
    ]
    videos = [
        _video(doc, folder, item, f"video[{i}]")
        for i, item in enumerate(doc.optional_array(root, "video"))
    ]
    _check_visuals(doc, by_id, shares, videos)
    visual_ends = [s.end_s for s in shares] + [v.end_s for v in videos]
    duration_s = _duration(doc, root, participants, utterances, chat, visual_ends)
    return RecordedMeeting(
        path=folder,
        topic=topic,
        language=language,
        duration_s=duration_s,
        participants=participants,
        utterances=tuple(sorted(utterances, key=lambda u: (u.start_s, u.end_s))),
        chat=tuple(sorted(chat, key=lambda c: c.at_s)),
        audio_files=_audio_files(folder, by_id, duration_s),
        shares=tuple(sorted(shares, key=lambda share: share.start_s)),
        videos=tuple(videos),
    )


def read_pcm16(path: Path) -> bytes:
    """Return the raw little-endian 16-bit samples of a 16 kHz mono PCM WAV file."""
    return _read_wav(Path(path), samples=True)[1]


def sample_meeting() -> RecordedMeeting:
    """Load the sample meeting shipped with the project."""
    return load_meeting(SAMPLE_MEETING_DIR)


class _Checker:
    """Type checks on parsed JSON that fail with the file and the JSON path of the value."""

    def __init__(self, file: Path) -> None:
        self.file = file

    def fail(self, where: str, reason: str) -> NoReturn:
        raise MeetingFixtureError(self.file, where, reason)

    def of_type(self, value: Any, kind: type[_T], where: str, what: str) -> _T:
        if not isinstance(value, kind):
            self.fail(where, f"must be {what}, not {_json_type(value)}")
        return value

    def required(self, obj: dict[str, Any], key: str, where: str = "") -> Any:
        if key not in obj:
            self.fail(f"{where}.{key}" if where else key, "is missing")
        return obj[key]

    def optional(
        self, obj: dict[str, Any], key: str, default: _T, check: Callable[[Any, str], _T]
    ) -> _T:
        return default if obj.get(key) is None else check(obj[key], key)

    def array(self, value: Any, where: str) -> list[Any]:
        return self.of_type(value, list, where, "an array")

    def optional_array(self, obj: dict[str, Any], key: str) -> list[Any]:
        return self.optional(obj, key, [], self.array)

    def string(self, value: Any, where: str, *, empty: bool = False) -> str:
        text = self.of_type(value, str, where, "a string")
        if not empty and not text.strip():
            self.fail(where, "must not be empty")
        return text

    def transcript_language(self, value: Any, where: str) -> int:
        known = {int(member) for member in TranscriptLanguage if member >= 0}
        if isinstance(value, bool) or not isinstance(value, int) or value not in known:
            self.fail(where, f"must be one of Zoom's transcript language ids 0-36, not {value!r}")
        return value

    def user_id(self, value: Any, where: str) -> int:
        # bool is an int subclass in Python, but `true` is not a user id.
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(where, f"must be an integer, not {_json_type(value)}")
        return value

    def seconds(self, value: Any, where: str) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.fail(where, f"must be a number of seconds, not {_json_type(value)}")
        if not math.isfinite(value):
            self.fail(where, f"must be a finite number, not {value}")
        if value < 0:
            self.fail(where, f"must not be negative, got {value}")
        return float(value)


def _participant(doc: _Checker, item: Any, where: str) -> FixtureParticipant:
    obj = doc.of_type(item, dict, where, "an object")
    join_s = doc.seconds(doc.required(obj, "join_s", where), f"{where}.join_s")
    leave_s: float | None = None
    if obj.get("leave_s") is not None:
        leave_s = doc.seconds(obj["leave_s"], f"{where}.leave_s")
        if leave_s < join_s:
            doc.fail(f"{where}.leave_s", f"{leave_s} is before join_s {join_s}")
    return FixtureParticipant(
        user_id=doc.user_id(doc.required(obj, "user_id", where), f"{where}.user_id"),
        user_name=doc.string(doc.required(obj, "user_name", where), f"{where}.user_name"),
        join_s=join_s,
        leave_s=leave_s,
    )


def _utterance(doc: _Checker, item: Any, where: str) -> FixtureUtterance:
    obj = doc.of_type(item, dict, where, "an object")
    start_s = doc.seconds(doc.required(obj, "start_s", where), f"{where}.start_s")
    end_s = doc.seconds(doc.required(obj, "end_s", where), f"{where}.end_s")
    if end_s <= start_s:
        doc.fail(f"{where}.end_s", f"{end_s} must be after start_s {start_s}")
    return FixtureUtterance(
        user_id=doc.user_id(doc.required(obj, "user_id", where), f"{where}.user_id"),
        start_s=start_s,
        end_s=end_s,
        text=doc.string(doc.required(obj, "text", where), f"{where}.text"),
        language=None
        if obj.get("language") is None
        else doc.transcript_language(obj["language"], f"{where}.language"),
    )


def _chat(doc: _Checker, item: Any, where: str) -> FixtureChat:
    obj = doc.of_type(item, dict, where, "an object")
    return FixtureChat(
        user_id=doc.user_id(doc.required(obj, "user_id", where), f"{where}.user_id"),
        at_s=doc.seconds(doc.required(obj, "at_s", where), f"{where}.at_s"),
        text=doc.string(doc.required(obj, "text", where), f"{where}.text"),
    )


def _image(doc: _Checker, folder: Path, value: Any, where: str) -> Path:
    """A PNG or JPG file inside the meeting's folder, named relative to it."""
    name = doc.string(value, where)
    path = (folder / name).resolve()
    if not path.is_relative_to(folder.resolve()):
        doc.fail(where, f"{name!r} is outside the meeting's folder")
    if path.suffix.lower() not in IMAGE_SUFFIXES:
        doc.fail(where, f"{name!r} must be a .png or .jpg picture")
    if not path.is_file():
        doc.fail(where, f"{name!r}: file not found")
    return path


def _span(doc: _Checker, obj: dict[str, Any], where: str) -> tuple[float, float]:
    start_s = doc.seconds(doc.required(obj, "start_s", where), f"{where}.start_s")
    end_s = doc.seconds(doc.required(obj, "end_s", where), f"{where}.end_s")
    if end_s <= start_s:
        doc.fail(f"{where}.end_s", f"{end_s} must be after start_s {start_s}")
    return start_s, end_s


def _share(doc: _Checker, folder: Path, item: Any, where: str) -> FixtureShare:
    obj = doc.of_type(item, dict, where, "an object")
    start_s, end_s = _span(doc, obj, where)
    slides: list[FixtureSlide] = []
    for i, entry in enumerate(doc.array(doc.required(obj, "slides", where), f"{where}.slides")):
        at = f"{where}.slides[{i}]"
        slide = doc.of_type(entry, dict, at, "an object")
        at_s = doc.seconds(doc.required(slide, "at_s", at), f"{at}.at_s")
        if not start_s <= at_s < end_s:
            doc.fail(f"{at}.at_s", f"{at_s} is outside the share ({start_s} to {end_s})")
        if slides and at_s <= slides[-1].at_s:
            doc.fail(f"{at}.at_s", "slides must be sorted by at_s")
        image = _image(doc, folder, doc.required(slide, "image", at), f"{at}.image")
        slides.append(FixtureSlide(at_s, image))
    if not slides or slides[0].at_s != start_s:
        doc.fail(f"{where}.slides", "the first slide must be shown at start_s")
    return FixtureShare(
        user_id=doc.user_id(doc.required(obj, "user_id", where), f"{where}.user_id"),
        start_s=start_s,
        end_s=end_s,
        slides=tuple(slides),
    )


def _video(doc: _Checker, folder: Path, item: Any, where: str) -> FixtureVideo:
    obj = doc.of_type(item, dict, where, "an object")
    start_s, end_s = _span(doc, obj, where)
    return FixtureVideo(
        user_id=doc.user_id(doc.required(obj, "user_id", where), f"{where}.user_id"),
        start_s=start_s,
        end_s=end_s,
        image=_image(doc, folder, doc.required(obj, "image", where), f"{where}.image"),
    )


def _check_visuals(
    doc: _Checker,
    by_id: dict[int, FixtureParticipant],
    shares: list[FixtureShare],
    videos: list[FixtureVideo],
) -> None:
    """Sharers and cameras belong to participants present throughout; shares never overlap."""
    spans = [(f"share[{i}]", s.user_id, s.start_s, s.end_s) for i, s in enumerate(shares)]
    spans += [(f"video[{i}]", v.user_id, v.start_s, v.end_s) for i, v in enumerate(videos)]
    for where, user_id, start_s, end_s in spans:
        who = by_id.get(user_id)
        if who is None:
            doc.fail(f"{where}.user_id", f"{user_id} is not a participant")
        if start_s < who.join_s or (who.leave_s is not None and end_s > who.leave_s):
            doc.fail(where, f"{who.user_name} is not present from {start_s} to {end_s}")
    ordered = sorted(enumerate(shares), key=lambda pair: pair[1].start_s)
    for (_, earlier), (i, later) in itertools.pairwise(ordered):
        if later.start_s < earlier.end_s:
            doc.fail(f"share[{i}].start_s", "shares must not overlap (one screen share at a time)")


def _index_participants(
    doc: _Checker, participants: tuple[FixtureParticipant, ...]
) -> dict[int, FixtureParticipant]:
    by_id: dict[int, FixtureParticipant] = {}
    first_index: dict[int, int] = {}
    for i, participant in enumerate(participants):
        if participant.user_id in by_id:
            doc.fail(
                f"participants[{i}].user_id",
                f"duplicate user_id {participant.user_id} "
                f"(also participants[{first_index[participant.user_id]}])",
            )
        by_id[participant.user_id] = participant
        first_index[participant.user_id] = i
    return by_id


def _check_presence(
    doc: _Checker,
    by_id: dict[int, FixtureParticipant],
    utterances: list[FixtureUtterance],
    chat: list[FixtureChat],
) -> None:
    """Check that every utterance and chat message comes from someone present at the time."""
    spans = [(f"utterances[{i}]", u.user_id, u.start_s, u.end_s) for i, u in enumerate(utterances)]
    spans += [(f"chat[{i}]", c.user_id, c.at_s, c.at_s) for i, c in enumerate(chat)]
    for where, user_id, start_s, end_s in spans:
        who = by_id.get(user_id)
        start_field, end_field = (
            ("at_s", "at_s") if where.startswith("chat") else ("start_s", "end_s")
        )
        if who is None:
            doc.fail(f"{where}.user_id", f"{user_id} is not a participant")
        if start_s < who.join_s:
            doc.fail(
                f"{where}.{start_field}",
                f"{start_s} is before {who.user_name} joins at {who.join_s}",
            )
        if who.leave_s is not None and end_s > who.leave_s:
            doc.fail(
                f"{where}.{end_field}",
                f"{end_s} is after {who.user_name} leaves at {who.leave_s}",
            )


def _duration(
    doc: _Checker,
    root: dict[str, Any],
    participants: tuple[FixtureParticipant, ...],
    utterances: list[FixtureUtterance],
    chat: list[FixtureChat],
    visual_ends: Sequence[float] = (),
) -> float:
    """Return duration_s, checking it covers every event, or the last event plus a tail."""
    events = [(0.0, "")]
    events += [(end_s, "share or video end_s") for end_s in visual_ends]
    for i, p in enumerate(participants):
        events.append((p.join_s, f"participants[{i}].join_s"))
        if p.leave_s is not None:
            events.append((p.leave_s, f"participants[{i}].leave_s"))
    events += [(u.end_s, f"utterances[{i}].end_s") for i, u in enumerate(utterances)]
    events += [(c.at_s, f"chat[{i}].at_s") for i, c in enumerate(chat)]
    last_s, last_where = max(events, key=lambda event: event[0])

    if root.get("duration_s") is None:
        return last_s + DEFAULT_TAIL_S
    duration_s = doc.seconds(root["duration_s"], "duration_s")
    if duration_s <= 0:
        doc.fail("duration_s", "must be positive")
    if duration_s < last_s:
        doc.fail("duration_s", f"{duration_s} is before the last event, {last_where} = {last_s}")
    return duration_s


def _audio_files(
    folder: Path, by_id: dict[int, FixtureParticipant], duration_s: float
) -> dict[int, Path]:
    """Return the validated audio track of each participant who has one."""
    audio_dir = folder / AUDIO_DIR
    if not audio_dir.exists():
        return {}
    if not audio_dir.is_dir():
        raise MeetingFixtureError(audio_dir, "$", "must be a folder of <user_id>.wav files")
    files: dict[int, Path] = {}
    for entry in sorted(audio_dir.iterdir()):
        match = _WAV_NAME.match(entry.name)
        if match is None or not entry.is_file():
            raise MeetingFixtureError(
                entry, "name", "stray file: audio/ holds only <user_id>.wav files"
            )
        user_id = int(match.group(1))
        if user_id not in by_id:
            raise MeetingFixtureError(entry, "name", f"{user_id} is not a participant")
        length_s = _read_wav(entry, samples=False)[0] / AUDIO_SAMPLE_RATE
        if length_s > duration_s + AUDIO_LENGTH_TOLERANCE_S:
            raise MeetingFixtureError(
                entry, "duration_s", f"lasts {length_s:.3f} s, longer than duration_s {duration_s}"
            )
        files[user_id] = entry
    return files


def _read_wav(path: Path, *, samples: bool) -> tuple[int, bytes]:
    """Return the frame count (and the samples if asked) of a 16 kHz mono 16-bit PCM WAV."""
    try:
        with wave.open(str(path), "rb") as wav:
            checks = [
                ("channels", wav.getnchannels(), AUDIO_CHANNELS, "channel(s)"),
                ("sample_rate", wav.getframerate(), AUDIO_SAMPLE_RATE, "Hz"),
                ("sample_width", wav.getsampwidth() * 8, AUDIO_SAMPLE_WIDTH * 8, "bit"),
            ]
            for field, actual, expected, unit in checks:
                if actual != expected:
                    raise MeetingFixtureError(
                        path, field, f"must be {expected} {unit}, got {actual}"
                    )
            nframes = wav.getnframes()
            return nframes, wav.readframes(nframes) if samples else b""
    except FileNotFoundError:
        raise MeetingFixtureError(path, "$", "file not found") from None
    except (wave.Error, EOFError) as exc:
        raise MeetingFixtureError(path, "format", f"not a PCM WAV file ({exc})") from None


def _read_json(file: Path) -> Any:
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise MeetingFixtureError(file, "$", "file not found") from None
    except UnicodeDecodeError as exc:
        raise MeetingFixtureError(file, "$", f"not UTF-8 text ({exc.reason})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise MeetingFixtureError(
            file, "$", f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from None


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__
