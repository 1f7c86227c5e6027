"""Tests for the recorded-meeting loader and the shipped sample meeting."""

from __future__ import annotations

import array
import copy
import json
import pickle
import sys
import wave
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from rtms_ingest.simulator.fixture import (
    SAMPLE_MEETING_DIR,
    FixtureChat,
    FixtureParticipant,
    MeetingFixtureError,
    RecordedMeeting,
    load_meeting,
    read_pcm16,
    sample_meeting,
)

ANA, BEN = 16778240, 16779264
RATE = 16_000
# Mean absolute amplitude (of 32767) above which a stretch of a track counts as speech.
SPEECH_LEVEL = 300


def valid_doc() -> dict[str, Any]:
    """A small valid meeting: Ana stays throughout, Ben joins at 2 s and leaves at 8 s."""
    return {
        "topic": "Test meeting",
        "duration_s": 10.0,
        "participants": [
            {"user_id": ANA, "user_name": "Ana Lima", "join_s": 0.0, "leave_s": None},
            {"user_id": BEN, "user_name": "Ben Ode", "join_s": 2.0, "leave_s": 8.0},
        ],
        "utterances": [
            {"user_id": ANA, "start_s": 0.5, "end_s": 2.0, "text": "Hello."},
            {"user_id": BEN, "start_s": 3.0, "end_s": 4.0, "text": "Hi Ana."},
        ],
        "chat": [{"user_id": BEN, "at_s": 5.0, "text": "Notes: https://example.com/notes"}],
    }


def write_meeting(folder: Path, doc: dict[str, Any]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "meeting.json").write_text(json.dumps(doc), encoding="utf-8")
    return folder


def write_wav(
    path: Path, seconds: float, *, rate: int = RATE, channels: int = 1, width: int = 2
) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(channels)
        wav.setsampwidth(width)
        wav.setframerate(rate)
        wav.writeframes(bytes(round(seconds * rate) * channels * width))
    return path


def samples(path: Path) -> array.array[int]:
    pcm = array.array("h", read_pcm16(path))
    if sys.byteorder == "big":
        pcm.byteswap()
    return pcm


def loudness(pcm: array.array[int], start_s: float, end_s: float) -> float:
    window = pcm[round(start_s * RATE) : round(end_s * RATE)]
    return sum(abs(s) for s in window) / max(1, len(window))


@pytest.fixture(scope="module")
def sample() -> RecordedMeeting:
    return sample_meeting()


# The shipped sample meeting


def test_sample_meeting_is_loaded_from_the_shipped_folder(sample: RecordedMeeting) -> None:
    assert sample.path == SAMPLE_MEETING_DIR
    assert sample.topic
    assert sample.language == "en"


def test_sample_meeting_lasts_at_least_90_seconds(sample: RecordedMeeting) -> None:
    assert sample.duration_s >= 90


def test_sample_meeting_has_at_least_three_speakers_with_audio(sample: RecordedMeeting) -> None:
    speakers = {u.user_id for u in sample.utterances}
    assert len(speakers) >= 3
    assert speakers <= set(sample.audio_files)


def test_sample_speakers_audio_is_audible_during_each_of_their_utterances(
    sample: RecordedMeeting,
) -> None:
    tracks = {user_id: samples(path) for user_id, path in sample.audio_files.items()}
    quiet = [
        u
        for u in sample.utterances
        if loudness(tracks[u.user_id], u.start_s, u.end_s) < SPEECH_LEVEL
    ]
    assert quiet == []


def test_sample_speakers_audio_is_silent_outside_their_utterances(
    sample: RecordedMeeting,
) -> None:
    for user_id, path in sample.audio_files.items():
        pcm = samples(path)
        for u in sample.utterances:
            if u.user_id == user_id:
                start, end = round(u.start_s * RATE), round(u.end_s * RATE)
                pcm[start:end] = array.array("h", bytes(2 * (end - start)))
        assert not any(pcm), f"{path.name} has sound outside its utterances"


def test_sample_tracks_last_the_whole_meeting(sample: RecordedMeeting) -> None:
    lengths = [len(samples(path)) / RATE for path in sample.audio_files.values()]
    assert lengths == [pytest.approx(sample.duration_s, abs=1 / RATE)] * len(lengths)


def test_sample_meeting_has_chat_with_a_link(sample: RecordedMeeting) -> None:
    assert sample.chat
    assert any("https://" in c.text for c in sample.chat)


def test_sample_meeting_has_a_late_joiner_who_speaks(sample: RecordedMeeting) -> None:
    late = [p for p in sample.participants if p.join_s >= 10]
    assert len(late) == 1
    assert any(u.user_id == late[0].user_id for u in sample.utterances)


def test_sample_meeting_has_an_early_leaver(sample: RecordedMeeting) -> None:
    early = [p for p in sample.participants if p.leave_s is not None]
    assert len(early) == 1
    assert early[0].leave_s is not None and early[0].leave_s < sample.duration_s - 10


def test_sample_meeting_has_an_overlap(sample: RecordedMeeting) -> None:
    pairs = zip(sample.utterances, sample.utterances[1:], strict=False)
    assert any(b.start_s < a.end_s for a, b in pairs)


def test_sample_meeting_has_unicode_names(sample: RecordedMeeting) -> None:
    assert any(not p.user_name.isascii() for p in sample.participants)


def test_sample_utterances_and_chat_are_sorted_by_time(sample: RecordedMeeting) -> None:
    assert [u.start_s for u in sample.utterances] == sorted(u.start_s for u in sample.utterances)
    assert [c.at_s for c in sample.chat] == sorted(c.at_s for c in sample.chat)


def test_sample_folder_holds_only_meeting_json_audio_and_its_pictures(
    sample: RecordedMeeting,
) -> None:
    names = {p.relative_to(SAMPLE_MEETING_DIR).as_posix() for p in SAMPLE_MEETING_DIR.rglob("*")}
    wavs = {f"audio/{user_id}.wav" for user_id in sample.audio_files}
    pictures = {s.image for share in sample.shares for s in share.slides}
    pictures |= {v.image for v in sample.videos}
    named = {p.relative_to(SAMPLE_MEETING_DIR).as_posix() for p in pictures}
    assert names == {"meeting.json", "audio", "share", "video", *wavs, *named}


def test_sample_shares_three_slides_and_one_camera(sample: RecordedMeeting) -> None:
    assert [len(share.slides) for share in sample.shares] == [3]
    assert [v.user_id for v in sample.videos] == [16779264]


def test_a_slide_outside_its_share_is_refused(tmp_path: Path) -> None:
    (tmp_path / "s.png").write_bytes(b"png")
    doc = {
        "participants": [{"user_id": 1, "user_name": "A", "join_s": 0}],
        "share": [
            {"user_id": 1, "start_s": 1, "end_s": 5, "slides": [{"at_s": 6, "image": "s.png"}]}
        ],
    }
    (tmp_path / "meeting.json").write_text(json.dumps(doc))
    with pytest.raises(MeetingFixtureError, match=r"share\[0\]\.slides\[0\]\.at_s"):
        load_meeting(tmp_path)


def test_a_picture_outside_the_meeting_folder_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "m"
    folder.mkdir()
    (tmp_path / "cam.png").write_bytes(b"png")
    doc = {
        "participants": [{"user_id": 1, "user_name": "A", "join_s": 0}],
        "video": [{"user_id": 1, "start_s": 0, "end_s": 5, "image": "../cam.png"}],
    }
    (folder / "meeting.json").write_text(json.dumps(doc))
    with pytest.raises(MeetingFixtureError, match="outside the meeting's folder"):
        load_meeting(folder)


# Loading valid meetings


def test_meeting_json_path_loads_like_its_folder(tmp_path: Path) -> None:
    folder = write_meeting(tmp_path / "m", valid_doc())
    assert load_meeting(folder / "meeting.json") == load_meeting(str(folder))


def test_meeting_without_audio_folder_loads_in_native_transcript_mode(tmp_path: Path) -> None:
    meeting = load_meeting(write_meeting(tmp_path / "m", valid_doc()))
    assert meeting.audio_files == {}
    assert len(meeting.utterances) == 2


def test_audio_files_are_mapped_by_user_id(tmp_path: Path) -> None:
    folder = write_meeting(tmp_path / "m", valid_doc())
    wav = write_wav(folder / "audio" / f"{ANA}.wav", 10.0)
    assert load_meeting(folder).audio_files == {ANA: wav}


def test_audio_may_be_shorter_than_the_meeting(tmp_path: Path) -> None:
    folder = write_meeting(tmp_path / "m", valid_doc())
    write_wav(folder / "audio" / f"{ANA}.wav", 2.5)
    assert ANA in load_meeting(folder).audio_files


def test_audio_a_few_samples_longer_than_the_meeting_is_tolerated(tmp_path: Path) -> None:
    folder = write_meeting(tmp_path / "m", valid_doc())
    write_wav(folder / "audio" / f"{ANA}.wav", 10.02)
    assert ANA in load_meeting(folder).audio_files


def test_duration_defaults_to_last_event_plus_one_second(tmp_path: Path) -> None:
    doc = valid_doc()
    del doc["duration_s"]
    assert load_meeting(write_meeting(tmp_path / "m", doc)).duration_s == 9.0


def test_language_defaults_to_english(tmp_path: Path) -> None:
    assert load_meeting(write_meeting(tmp_path / "m", valid_doc())).language == "en"


def test_topic_defaults_to_empty(tmp_path: Path) -> None:
    doc = valid_doc()
    del doc["topic"]
    assert load_meeting(write_meeting(tmp_path / "m", doc)).topic == ""


def test_unknown_top_level_keys_are_tolerated(tmp_path: Path) -> None:
    doc = valid_doc() | {"recorded_with": "zoom", "notes": {"any": ["thing"]}}
    assert load_meeting(write_meeting(tmp_path / "m", doc)).topic == "Test meeting"


def test_meeting_with_only_participants_loads(tmp_path: Path) -> None:
    doc = {"participants": valid_doc()["participants"]}
    meeting = load_meeting(write_meeting(tmp_path / "m", doc))
    assert (meeting.utterances, meeting.chat, meeting.duration_s) == ((), (), 9.0)


def test_utterances_and_chat_are_sorted_by_time(tmp_path: Path) -> None:
    doc = valid_doc()
    doc["utterances"].reverse()
    doc["chat"].insert(0, {"user_id": ANA, "at_s": 9.0, "text": "Bye"})
    meeting = load_meeting(write_meeting(tmp_path / "m", doc))
    assert [u.start_s for u in meeting.utterances] == [0.5, 3.0]
    assert [c.at_s for c in meeting.chat] == [5.0, 9.0]


def test_utterances_may_overlap(tmp_path: Path) -> None:
    doc = valid_doc()
    doc["utterances"][1] |= {"start_s": 2.0, "end_s": 4.0}
    doc["utterances"][0]["end_s"] = 3.0
    assert len(load_meeting(write_meeting(tmp_path / "m", doc)).utterances) == 2


def test_integer_times_are_read_as_floats(tmp_path: Path) -> None:
    doc = valid_doc()
    doc["participants"][1]["join_s"] = 2
    assert load_meeting(write_meeting(tmp_path / "m", doc)).participant(BEN).join_s == 2.0


def test_times_and_names_are_read_into_dataclasses(tmp_path: Path) -> None:
    meeting = load_meeting(write_meeting(tmp_path / "m", valid_doc()))
    assert meeting.participants[1] == FixtureParticipant(BEN, "Ben Ode", 2.0, 8.0)
    assert meeting.chat == (FixtureChat(BEN, 5.0, "Notes: https://example.com/notes"),)


# Helpers


def test_user_name_looks_up_the_participant(sample: RecordedMeeting) -> None:
    first = sample.participants[0]
    assert sample.user_name(first.user_id) == first.user_name


def test_unknown_participant_raises_key_error(sample: RecordedMeeting) -> None:
    with pytest.raises(KeyError):
        sample.participant(1)


def test_present_at_excludes_who_has_not_joined_or_has_left(tmp_path: Path) -> None:
    meeting = load_meeting(write_meeting(tmp_path / "m", valid_doc()))
    assert [p.user_id for p in meeting.present_at(1.0)] == [ANA]
    assert [p.user_id for p in meeting.present_at(2.0)] == [ANA, BEN]
    assert [p.user_id for p in meeting.present_at(8.0)] == [ANA]


def test_read_pcm16_returns_the_little_endian_samples(tmp_path: Path) -> None:
    path = tmp_path / "a.wav"
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(RATE)
        wav.writeframes(b"\x01\x00\xff\x7f")
    assert read_pcm16(path) == b"\x01\x00\xff\x7f"


def test_read_pcm16_refuses_a_wav_in_another_format(tmp_path: Path) -> None:
    path = write_wav(tmp_path / "a.wav", 1.0, rate=8000)
    with pytest.raises(MeetingFixtureError) as error:
        read_pcm16(path)
    assert (error.value.file, error.value.field) == (path, "sample_rate")


# Errors


def test_error_message_names_file_field_and_reason() -> None:
    error = MeetingFixtureError(Path("m/meeting.json"), "utterances[3].end_s", "is missing")
    assert str(error) == "m/meeting.json: utterances[3].end_s: is missing"
    assert isinstance(error, ValueError)


def test_error_survives_pickling() -> None:
    error = MeetingFixtureError(Path("m/meeting.json"), "duration_s", "must be positive")
    copy_ = pickle.loads(pickle.dumps(error))  # noqa: S301 -- our own bytes
    assert (copy_.file, copy_.field, copy_.reason) == (error.file, error.field, error.reason)


def test_missing_folder_is_refused_naming_meeting_json(tmp_path: Path) -> None:
    with pytest.raises(MeetingFixtureError) as error:
        load_meeting(tmp_path / "nowhere")
    assert error.value.file == tmp_path / "nowhere" / "meeting.json"
    assert (error.value.field, error.value.reason) == ("$", "file not found")


def test_invalid_json_is_refused_with_line_and_column(tmp_path: Path) -> None:
    (tmp_path / "meeting.json").write_text('{\n  "topic": "x",\n  oops\n}\n', encoding="utf-8")
    with pytest.raises(MeetingFixtureError) as error:
        load_meeting(tmp_path)
    assert error.value.file == tmp_path / "meeting.json"
    assert error.value.field == "$"
    assert "line 3, column 3" in error.value.reason


def test_non_utf8_meeting_json_is_refused(tmp_path: Path) -> None:
    (tmp_path / "meeting.json").write_bytes(b'{"topic": "caf\xe9"}')
    with pytest.raises(MeetingFixtureError) as error:
        load_meeting(tmp_path)
    assert error.value.field == "$"
    assert "UTF-8" in error.value.reason


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    """A mutation that sets the value at a dotted path like 'utterances.1.end_s'."""

    def mutate(doc: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target: Any = doc
        for key in parents:
            target = target[int(key)] if isinstance(target, list) else target[key]
        target[int(last) if isinstance(target, list) else last] = value

    return mutate


def _delete(path: str) -> Callable[[dict[str, Any]], None]:
    def mutate(doc: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target: Any = doc
        for key in parents:
            target = target[int(key)] if isinstance(target, list) else target[key]
        del target[last]

    return mutate


def _duplicate_ana(doc: dict[str, Any]) -> None:
    doc["participants"][1]["user_id"] = ANA


INVALID_DOCS = [
    pytest.param(
        _set("participants.0.user_id", True),
        "participants[0].user_id",
        "integer",
        id="bool_user_id_is_not_an_int",
    ),
    pytest.param(
        _set("utterances.1.user_id", "16779264"),
        "utterances[1].user_id",
        "integer",
        id="string_user_id_is_refused",
    ),
    pytest.param(
        _set("participants.1.join_s", "2"),
        "participants[1].join_s",
        "number",
        id="string_time_is_refused",
    ),
    pytest.param(_set("chat.0.at_s", False), "chat[0].at_s", "number", id="bool_time_is_refused"),
    pytest.param(
        _set("utterances.0.start_s", -0.5),
        "utterances[0].start_s",
        "negative",
        id="negative_time_is_refused",
    ),
    pytest.param(
        _set("duration_s", float("nan")), "duration_s", "finite", id="nan_time_is_refused"
    ),
    pytest.param(
        _set("utterances.1.end_s", 3.0),
        "utterances[1].end_s",
        "after start_s",
        id="utterance_ending_at_its_start_is_refused",
    ),
    pytest.param(
        _set("utterances.1.end_s", 2.5),
        "utterances[1].end_s",
        "after start_s",
        id="utterance_ending_before_its_start_is_refused",
    ),
    pytest.param(
        _set("participants.1.leave_s", 1.0),
        "participants[1].leave_s",
        "before join_s",
        id="leaving_before_joining_is_refused",
    ),
    pytest.param(
        _set("utterances.0.user_id", 42),
        "utterances[0].user_id",
        "not a participant",
        id="utterance_from_a_stranger_is_refused",
    ),
    pytest.param(
        _set("chat.0.user_id", 42),
        "chat[0].user_id",
        "not a participant",
        id="chat_from_a_stranger_is_refused",
    ),
    pytest.param(
        _set("utterances.1.start_s", 1.5),
        "utterances[1].start_s",
        "before Ben Ode joins",
        id="utterance_before_joining_is_refused",
    ),
    pytest.param(
        _set("utterances.1.end_s", 8.5),
        "utterances[1].end_s",
        "after Ben Ode leaves",
        id="utterance_after_leaving_is_refused",
    ),
    pytest.param(
        _set("chat.0.at_s", 9.0),
        "chat[0].at_s",
        "after Ben Ode leaves",
        id="chat_after_leaving_is_refused",
    ),
    pytest.param(
        _duplicate_ana,
        "participants[1].user_id",
        "duplicate user_id",
        id="duplicate_user_id_is_refused",
    ),
    pytest.param(
        _set("utterances.0.text", "  "),
        "utterances[0].text",
        "empty",
        id="blank_utterance_text_is_refused",
    ),
    pytest.param(_set("chat.0.text", ""), "chat[0].text", "empty", id="empty_chat_text_is_refused"),
    pytest.param(
        _set("participants.0.user_name", ""),
        "participants[0].user_name",
        "empty",
        id="empty_user_name_is_refused",
    ),
    pytest.param(
        _set("duration_s", 7.0),
        "duration_s",
        "before the last event, participants[1].leave_s = 8.0",
        id="duration_before_last_event_is_refused",
    ),
    pytest.param(_set("duration_s", 0), "duration_s", "positive", id="zero_duration_is_refused"),
    pytest.param(
        _delete("participants.0.user_name"),
        "participants[0].user_name",
        "missing",
        id="missing_required_key_is_refused",
    ),
    pytest.param(
        _delete("participants"), "participants", "missing", id="missing_participants_is_refused"
    ),
    pytest.param(
        _set("participants", {}), "participants", "array", id="participants_not_an_array_is_refused"
    ),
    pytest.param(
        _set("utterances.0", "Hello."),
        "utterances[0]",
        "object",
        id="utterance_not_an_object_is_refused",
    ),
    pytest.param(_set("language", ""), "language", "empty", id="empty_language_is_refused"),
]


@pytest.mark.parametrize(("mutate", "field", "reason"), INVALID_DOCS)
def test_invalid_meeting_json_is_refused_naming_the_field(
    tmp_path: Path, mutate: Callable[[dict[str, Any]], None], field: str, reason: str
) -> None:
    doc = copy.deepcopy(valid_doc())
    mutate(doc)
    folder = write_meeting(tmp_path / "m", doc)
    with pytest.raises(MeetingFixtureError) as error:
        load_meeting(folder)
    assert error.value.file == folder / "meeting.json"
    assert error.value.field == field
    assert reason in error.value.reason
    assert str(error.value) == f"{folder / 'meeting.json'}: {field}: {error.value.reason}"


def test_root_that_is_not_an_object_is_refused(tmp_path: Path) -> None:
    (tmp_path / "meeting.json").write_text("[]", encoding="utf-8")
    with pytest.raises(MeetingFixtureError) as error:
        load_meeting(tmp_path)
    assert (error.value.field, error.value.reason) == ("$", "must be an object, not an array")


def test_error_index_refers_to_the_file_order_not_the_sorted_order(tmp_path: Path) -> None:
    doc = valid_doc()
    doc["utterances"].reverse()
    doc["utterances"][1]["text"] = ""
    with pytest.raises(MeetingFixtureError) as error:
        load_meeting(write_meeting(tmp_path / "m", doc))
    assert error.value.field == "utterances[1].text"


INVALID_WAVS = [
    pytest.param({"rate": 22050}, "sample_rate", "must be 16000 Hz, got 22050", id="wrong_rate"),
    pytest.param({"channels": 2}, "channels", "must be 1 channel(s), got 2", id="stereo"),
    pytest.param({"width": 1}, "sample_width", "must be 16 bit, got 8", id="8_bit"),
]


@pytest.mark.parametrize(("params", "field", "reason"), INVALID_WAVS)
def test_audio_in_the_wrong_format_is_refused(
    tmp_path: Path, params: dict[str, int], field: str, reason: str
) -> None:
    folder = write_meeting(tmp_path / "m", valid_doc())
    wav = write_wav(folder / "audio" / f"{ANA}.wav", 1.0, **params)
    with pytest.raises(MeetingFixtureError) as error:
        load_meeting(folder)
    assert (error.value.file, error.value.field, error.value.reason) == (wav, field, reason)


def test_audio_that_is_not_a_wav_is_refused(tmp_path: Path) -> None:
    folder = write_meeting(tmp_path / "m", valid_doc())
    bogus = folder / "audio" / f"{ANA}.wav"
    bogus.parent.mkdir()
    bogus.write_bytes(b"ID3\x03\x00 not a wave file at all")
    with pytest.raises(MeetingFixtureError) as error:
        load_meeting(folder)
    assert (error.value.file, error.value.field) == (bogus, "format")


def test_audio_longer_than_the_meeting_is_refused(tmp_path: Path) -> None:
    folder = write_meeting(tmp_path / "m", valid_doc())
    wav = write_wav(folder / "audio" / f"{BEN}.wav", 10.5)
    with pytest.raises(MeetingFixtureError) as error:
        load_meeting(folder)
    assert (error.value.file, error.value.field) == (wav, "duration_s")
    assert "longer than duration_s 10.0" in error.value.reason


def test_audio_of_a_non_participant_is_refused(tmp_path: Path) -> None:
    folder = write_meeting(tmp_path / "m", valid_doc())
    wav = write_wav(folder / "audio" / "42.wav", 1.0)
    with pytest.raises(MeetingFixtureError) as error:
        load_meeting(folder)
    assert (error.value.file, error.value.field) == (wav, "name")
    assert "42 is not a participant" in error.value.reason


@pytest.mark.parametrize("name", ["notes.txt", f"{ANA}.WAV", f"0{ANA}.wav", "ana.wav"])
def test_stray_file_in_audio_folder_is_refused_naming_it(tmp_path: Path, name: str) -> None:
    folder = write_meeting(tmp_path / "m", valid_doc())
    stray = write_wav(folder / "audio" / name, 1.0)
    with pytest.raises(MeetingFixtureError) as error:
        load_meeting(folder)
    assert (error.value.file, error.value.field) == (stray, "name")
    assert "stray file" in error.value.reason


def test_audio_that_is_a_file_not_a_folder_is_refused(tmp_path: Path) -> None:
    folder = write_meeting(tmp_path / "m", valid_doc())
    (folder / "audio").write_text("oops", encoding="utf-8")
    with pytest.raises(MeetingFixtureError) as error:
        load_meeting(folder)
    assert error.value.file == folder / "audio"
