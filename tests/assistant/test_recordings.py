"""Recorded audio on the stream clock: placing frames, writing WAV files, reading them back."""

from __future__ import annotations

import wave
from pathlib import Path

import pytest
from django.test import override_settings

from assistant import recordings
from assistant.models import Meeting
from assistant.recordings import BYTES_PER_MS, Anchor, TrackTimeline, TrackWriter

FRAME = 20 * BYTES_PER_MS  # one 20 ms frame of s16le at 16 kHz


def frame(value: int) -> bytes:
    return value.to_bytes(2, "little", signed=True) * (FRAME // 2)


def test_frames_in_a_row_run_on_and_jitter_does_not_move_them() -> None:
    timeline = TrackTimeline()
    first = timeline.place(1_000, FRAME, "Ana")
    assert first == recordings.Placement(0, Anchor(0, 1_000, "Ana"))
    assert timeline.place(1_020, FRAME) == recordings.Placement(0, None)
    assert timeline.place(1_075, FRAME) == recordings.Placement(0, None), "35 ms late: jitter"
    assert timeline.place(1_030, FRAME) == recordings.Placement(0, None), "30 ms early: jitter"
    assert timeline.samples == 4 * FRAME // 2


def test_a_pause_is_written_as_silence_and_a_long_one_starts_an_anchor() -> None:
    timeline = TrackTimeline()
    timeline.place(0, FRAME, "Ana")
    pause = timeline.place(20 + 500, FRAME)  # half a second of nothing from Zoom
    assert pause == recordings.Placement(500 * BYTES_PER_MS, None)
    assert timeline.samples == (20 + 500 + 20) * 16
    long_gap = timeline.place(540 + 60_000, FRAME)
    assert long_gap == recordings.Placement(0, Anchor((20 + 500 + 20) * 16, 60_540, "Ana"))
    assert timeline.samples == (20 + 500 + 20 + 20) * 16, "a minute of silence costs no disk"


def test_frames_from_the_past_and_skipped_frames_start_an_anchor() -> None:
    timeline = TrackTimeline()
    timeline.place(10_000, FRAME)
    earlier = timeline.place(5_000, FRAME)  # a reconnect delivering buffered audio
    assert earlier.anchor == Anchor(FRAME // 2, 5_000, "")
    timeline.skipped()
    after_drop = timeline.place(5_040, FRAME)
    assert after_drop.anchor == Anchor(FRAME, 5_040, "")


def test_a_renamed_speaker_keeps_the_pause_and_records_the_new_name() -> None:
    timeline = TrackTimeline()
    timeline.place(0, FRAME, "Guest")
    renamed = timeline.place(520, FRAME, "Ana")
    assert renamed == recordings.Placement(500 * BYTES_PER_MS, Anchor(520 * 16, 520, "Ana"))


def write_track(folder: Path, user_id: int, frames: list[tuple[int, bytes, str]]) -> None:
    timeline, writer = TrackTimeline(), TrackWriter(folder, user_id)
    for at_ms, pcm, name in frames:
        placed = timeline.place(at_ms, len(pcm), name)
        writer.write(placed.silence_bytes, placed.anchor, pcm)
    writer.close()


@pytest.mark.django_db
def test_tracks_read_back_map_every_sample_to_its_stream_time(tmp_path: Path) -> None:
    meeting = Meeting.objects.create(zoom_id="rec==", rtms_stream_id="rec-1")
    with override_settings(RECORDINGS_DIR=tmp_path):
        folder = recordings.meeting_dir(meeting.pk)
        write_track(folder, 7, [(1_000, frame(100), "Ana"), (1_020, frame(200), "")])
        write_track(folder, 7, [(90_000, frame(300), "Ana B.")])  # the stream reconnected
        write_track(folder, 3, [(2_000, frame(-5), "Bo")])
        tracks = list(recordings.recorded_tracks(meeting.pk))
    assert [(t.user_id, t.name) for t in tracks] == [(3, "Bo"), (7, "Ana B.")]
    ana = tracks[1]
    assert len(ana.pcm) == 3 * FRAME, "the second session continued the file"
    assert ana.pcm[FRAME : FRAME + 2] == (200).to_bytes(2, "little")
    assert ana.stream_ms(0) == 1_000
    assert ana.stream_ms(FRAME // 2 + 160) == 1_030
    assert ana.stream_ms(FRAME) == 90_000, "the third frame is where the reconnect put it"
    assert ana.anchor_samples() == [FRAME]


@pytest.mark.django_db
def test_the_header_is_valid_while_the_file_is_still_being_written(tmp_path: Path) -> None:
    writer = TrackWriter(tmp_path, 1)
    writer.write(0, Anchor(0, 0), frame(1))
    writer.write(0, None, frame(2))
    with wave.open(str(tmp_path / "1.wav"), "rb") as wav:  # a crash here would keep this
        assert wav.getnframes() == FRAME  # two frames of FRAME // 2 samples
    writer.close()


@pytest.mark.django_db
def test_deleting_a_meetings_recordings_frees_the_folder(tmp_path: Path) -> None:
    with override_settings(RECORDINGS_DIR=tmp_path):
        write_track(recordings.meeting_dir(4), 1, [(0, frame(9), "")])
        assert recordings.delete_recordings(4) > FRAME
        assert not recordings.meeting_dir(4).exists()
        assert recordings.delete_recordings(4) == 0
        assert list(recordings.recorded_tracks(4)) == []


@pytest.mark.django_db
def test_recording_follows_the_setting_unless_the_meeting_chose(tmp_path: Path) -> None:
    meeting = Meeting(zoom_id="r==", rtms_stream_id="r")
    with override_settings(RECORD_AUDIO=False):
        assert not recordings.wants_recording(meeting)
        meeting.record_audio = True
        assert recordings.wants_recording(meeting)
    with override_settings(RECORD_AUDIO=True):
        meeting.record_audio = False
        assert not recordings.wants_recording(meeting)
        meeting.record_audio = None
        assert recordings.wants_recording(meeting)
