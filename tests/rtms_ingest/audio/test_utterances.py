"""Cutting a participant's frames into utterances: onsets, offsets, windows, bad input."""

from __future__ import annotations

import math

import numpy as np

from rtms_ingest.audio.utterances import BYTES_PER_MS, Cut, CutterSettings, UtteranceCutter

FRAME_MS = 20


def tone(ms: int, dbfs: float = -20.0) -> bytes:
    """A 440 Hz tone at about `dbfs`, 16 kHz mono int16."""
    n = ms * 16
    amplitude = 32768 * 10 ** (dbfs / 20) * math.sqrt(2)
    samples = amplitude * np.sin(2 * np.pi * 440 * np.arange(n) / 16_000)
    return samples.astype("<i2").tobytes()


def play(cutter: UtteranceCutter, pcm: bytes, start_ms: int) -> list[Cut]:
    """Feed `pcm` in 20 ms frames from `start_ms` on; every cut made."""
    cuts = []
    step = FRAME_MS * BYTES_PER_MS
    for offset in range(0, len(pcm), step):
        cuts += cutter.feed(pcm[offset : offset + step], start_ms + offset // BYTES_PER_MS)
    return cuts


def test_speech_then_quiet_frames_makes_one_final_cut_with_its_times() -> None:
    cutter = UtteranceCutter(CutterSettings(provisional_every_ms=0))
    cuts = play(cutter, tone(1000) + bytes(600 * BYTES_PER_MS), start_ms=5000)
    [cut] = cuts
    assert cut.final and cut.revision == 0
    assert cut.start_ms == 5000
    # Ends a little after the last voice (the tail keeps soft word endings), not at the hangover.
    assert 6000 <= cut.end_ms <= 6000 + 200
    assert len(cut.pcm) == (cut.end_ms - cut.start_ms) * BYTES_PER_MS


def test_no_frames_for_a_while_ends_the_utterance_on_flush() -> None:
    cutter = UtteranceCutter(CutterSettings(provisional_every_ms=0))
    assert play(cutter, tone(800), start_ms=0) == []
    assert cutter.flush(now_stream_ms=900) == [], "still within the hangover"
    [cut] = cutter.flush(now_stream_ms=800 + 350)
    assert cut.final and (cut.start_ms, cut.end_ms) == (0, 800)


def test_a_frame_after_a_long_gap_ends_the_previous_utterance_first() -> None:
    cutter = UtteranceCutter(CutterSettings(provisional_every_ms=0))
    play(cutter, tone(500), start_ms=0)
    cuts = play(cutter, tone(500), start_ms=2000)  # replayed burst: no frames in between
    assert [(c.start_ms, c.end_ms, c.final) for c in cuts] == [(0, 500, True)]
    [second] = cutter.flush()
    assert (second.start_ms, second.end_ms) == (2000, 2500)


def test_a_short_pause_stays_inside_the_utterance_as_silence() -> None:
    cutter = UtteranceCutter(CutterSettings(provisional_every_ms=0))
    play(cutter, tone(400), start_ms=0)
    play(cutter, tone(400), start_ms=600)  # 200 ms without frames: a pause between words
    [cut] = cutter.flush()
    assert (cut.start_ms, cut.end_ms) == (0, 1000)
    assert len(cut.pcm) == 1000 * BYTES_PER_MS, "the pause is kept as silence"


def test_a_long_utterance_gets_provisional_windows_then_its_final() -> None:
    settings = CutterSettings(provisional_every_ms=1000, window_ms=1500)
    cutter = UtteranceCutter(settings)
    cuts = play(cutter, tone(3500), start_ms=0) + cutter.flush()
    provisional = [c for c in cuts if not c.final]
    assert [c.revision for c in provisional] == [0, 1, 2]
    assert all(len(c.pcm) <= 1500 * BYTES_PER_MS for c in provisional)
    # Every cut names the same utterance, though a window starts later than the utterance.
    assert {c.utterance_start_ms for c in cuts} == {0}
    assert provisional[-1].start_ms > 0
    assert cuts[-1].final and cuts[-1].revision == 3
    assert (cuts[-1].start_ms, cuts[-1].end_ms) == (0, 3500)


def test_a_voice_that_never_stops_is_cut_at_the_maximum_length() -> None:
    settings = CutterSettings(provisional_every_ms=0, max_utterance_ms=2000)
    cutter = UtteranceCutter(settings)
    cuts = play(cutter, tone(7000), start_ms=0)
    assert len(cuts) == 3 and all(c.final for c in cuts)
    assert all(len(c.pcm) <= 2000 * BYTES_PER_MS for c in cuts)
    # Nothing spoken is lost between windows: each starts where the previous ended.
    assert [c.start_ms for c in cuts] == [0, cuts[0].end_ms, cuts[1].end_ms]


def test_a_voice_that_never_stops_is_cut_in_its_quietest_moment_not_mid_word() -> None:
    settings = CutterSettings(provisional_every_ms=0, max_utterance_ms=3000)
    cutter = UtteranceCutter(settings)
    dip = tone(100, dbfs=-60)  # shorter than the hangover: a breath inside the utterance
    cuts = play(cutter, tone(2400) + dip + tone(2000), start_ms=0) + cutter.flush()
    first, second = cuts
    assert 2400 <= first.end_ms <= 2500, "cut inside the breath, not at the maximum length"
    assert second.start_ms == first.end_ms and second.end_ms == 4500, "nothing lost"


def test_quiet_noise_is_not_speech_and_costs_no_cut() -> None:
    rng = np.random.default_rng(7)
    noise = (rng.normal(0, 30, 16 * 3000)).astype("<i2").tobytes()  # about -60 dBFS
    cutter = UtteranceCutter()
    assert play(cutter, noise, start_ms=0) + cutter.flush() == []


def test_speech_over_a_steady_hum_is_found() -> None:
    hum = tone(12_000, dbfs=-45)  # above the absolute threshold: only the noise floor tells
    speech = np.frombuffer(tone(1000, dbfs=-20), "<i2") + np.frombuffer(tone(1000, -45), "<i2")
    cutter = UtteranceCutter(CutterSettings(provisional_every_ms=0))
    cuts = play(cutter, hum + speech.astype("<i2").tobytes() + tone(1000, -45), start_ms=0)
    cuts += cutter.flush()
    finals = [c for c in cuts if c.final]
    assert len(finals) >= 1
    # The hum's first seconds pass for voice; once the floor has risen, speech stands out.
    spoken = [(c.start_ms, c.end_ms) for c in finals if c.start_ms >= 9000]
    assert spoken and 11_800 <= spoken[0][0] <= 12_100 and spoken[0][1] >= 12_900, spoken


def test_odd_and_oversized_frames_are_trimmed_and_counted() -> None:
    cutter = UtteranceCutter(CutterSettings(max_frame_ms=100))
    cutter.feed(tone(20) + b"\x01", 0)
    cutter.feed(tone(500), 20)
    assert (cutter.odd_frames, cutter.long_frames) == (1, 1)
    [cut] = cutter.flush()
    assert len(cut.pcm) % 2 == 0 and cut.end_ms - cut.start_ms <= 120


def test_audio_at_another_sample_rate_than_announced_is_dropped() -> None:
    cutter = UtteranceCutter(CutterSettings(provisional_every_ms=0))
    # 8 kHz audio sent as "16 kHz": each 20 ms frame holds 10 ms worth of 16 kHz samples.
    frames = [cutter.feed(tone(10), n * 20) for n in range(100)]
    assert cutter.wrong_rate
    assert sum(len(cuts) for cuts in frames) + len(cutter.flush()) == 0, "garbled: nothing cut"
    assert cutter.feed(tone(20), 2000) == [], "everything after is dropped too"


def test_a_replayed_burst_is_not_taken_for_a_wrong_rate() -> None:
    cutter = UtteranceCutter(CutterSettings(provisional_every_ms=0))
    # Buffered audio: frames of the past, delivered back to back with their own timestamps.
    cuts = play(cutter, tone(2000), start_ms=0) + cutter.flush()
    assert not cutter.wrong_rate
    assert [(c.start_ms, c.end_ms) for c in cuts] == [(0, 2000)]


def test_digital_silence_between_words_keeps_the_noise_floor_sane() -> None:
    cutter = UtteranceCutter(CutterSettings(provisional_every_ms=0, max_utterance_ms=1000))
    cuts = []
    for n in range(500):  # 10 s: 0.8 s of voice, 0.2 s of zeros, again and again
        cuts += cutter.feed(tone(20) if n % 50 < 40 else bytes(640), n * 20)
    assert math.isfinite(cutter.noise_floor_dbfs)
    assert len(cuts) >= 9, "every second of voice is cut, none lost to a broken floor"


def test_frames_zoom_leaves_out_count_as_digital_silence_for_the_noise_floor() -> None:
    sent_zeros, left_out = UtteranceCutter(), UtteranceCutter()
    voice = tone(3000, dbfs=-30)  # long enough for the floor to creep up through it
    for cutter in (sent_zeros, left_out):
        play(cutter, voice, start_ms=0)
    raised = left_out.noise_floor_dbfs
    assert raised > -70.0
    play(sent_zeros, bytes(200 * BYTES_PER_MS), start_ms=3000)
    play(sent_zeros, tone(20, dbfs=-30), start_ms=3200)
    left_out.feed(tone(20, dbfs=-30), 3200)  # the same pause, as Zoom sends it: no frames
    assert left_out.noise_floor_dbfs == sent_zeros.noise_floor_dbfs < -69.9  # back down
    short_gap = UtteranceCutter()
    play(short_gap, voice, start_ms=0)
    short_gap.feed(tone(20, dbfs=-30), 3040)  # one frame late: jitter, not silence
    assert short_gap.noise_floor_dbfs > raised
