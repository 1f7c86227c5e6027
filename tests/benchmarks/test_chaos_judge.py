"""How `make chaos` judges a run: the fault window, what counts as lost, what as doubled."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from benchmarks.chaos_judge import Caption, Row, RunRecord, judge
from rtms_ingest.simulator import StreamReport, TextDelivery
from rtms_ingest.simulator.fixture import RecordedMeeting, load_meeting
from tests.rtms_ingest.simulator.simulator_client import write_meeting

ANA, BEN = 101, 202
# Four utterances, sent (end + 0.2 s) at 5.2, 15.2, 25.2 and 35.2 s.
MEETING: dict[str, Any] = {
    "duration_s": 40.0,
    "participants": [
        {"user_id": ANA, "user_name": "Ana", "join_s": 0.0, "leave_s": None},
        {"user_id": BEN, "user_name": "Ben", "join_s": 0.0, "leave_s": None},
    ],
    "utterances": [
        {"user_id": ANA, "start_s": 1.0, "end_s": 5.0, "text": "one"},
        {"user_id": BEN, "start_s": 11.0, "end_s": 15.0, "text": "two"},
        {"user_id": ANA, "start_s": 21.0, "end_s": 25.0, "text": "three"},
        {"user_id": BEN, "start_s": 31.0, "end_s": 35.0, "text": "four"},
    ],
    "chat": [],
}
FAULT_MS = 10_000


@pytest.fixture
def recording(tmp_path: Path) -> RecordedMeeting:
    return load_meeting(write_meeting(tmp_path / "m", MEETING, audio=False))


def _report(recording: RecordedMeeting, sent: int | None = None) -> StreamReport:
    """A report of the first `sent` utterances (all by default) delivered when due."""
    report = StreamReport("stream", "owner")
    for u in recording.utterances[:sent]:
        start, end = round(u.start_s * 1000), round(u.end_s * 1000)
        due = end + 200
        report.texts.append(
            TextDelivery(
                "transcript",
                (u.user_id, start),
                u.user_id,
                start,
                end,
                u.text,
                due,
                True,
                due,
                0,
                0,
                "media:transcript",
                1,
            )
        )
    return report


def _row(u: Any, shift_ms: int = 0) -> Row:
    return Row(u.user_id, round(u.start_s * 1000) + shift_ms, round(u.end_s * 1000), u.text)


def _caption(u: Any, received_ms: int, source: str = "native") -> Caption:
    start, end = round(u.start_s * 1000), round(u.end_s * 1000)
    return Caption(source, u.user_id, start, end, u.text, True, received_ms)


def _run(recording: RecordedMeeting, report: StreamReport, **overrides: Any) -> RunRecord:
    values: dict[str, Any] = {
        "recording": recording,
        "report": report,
        "fault_ms": FAULT_MS,
        "native": [_row(u) for u in recording.utterances],
        "asr": [],
        "chat": [],
        "captions": [_caption(u, round(u.end_s * 1000) + 300) for u in recording.utterances],
        "max_window_ms": 30_000,
    }
    values.update(overrides)
    return RunRecord(**values)


def test_a_clean_run_passes_with_the_gap_to_the_next_caption(recording: RecordedMeeting) -> None:
    verdict = judge(_run(recording, _report(recording)))
    assert verdict["passed"] and verdict["recovered"]
    assert verdict["window_s"] == [10.0, 15.3]
    assert (verdict["captions_gap_s"], verdict["natural_gap_s"]) == (5.3, 5.2)


def test_the_window_closes_at_the_first_caption_of_speech_sent_after_the_fault(
    recording: RecordedMeeting,
) -> None:
    utterances = recording.utterances
    # "one" (sent before the fault) is shown late, at 12 s: that is no sign of recovery.
    captions = [_caption(utterances[0], 12_000)] + [
        _caption(u, round(u.end_s * 1000) + 300) for u in utterances[1:]
    ]
    # "two" is lost inside the window; "four", sent well after captions came back, outside.
    native = [_row(utterances[0]), _row(utterances[2])]
    verdict = judge(_run(recording, _report(recording), captions=captions, native=native))
    assert verdict["window_s"] == [10.0, 15.3]
    assert [x["text"] for x in verdict["transcript"]["lost_in_window"]] == ["two"]
    assert [x["text"] for x in verdict["transcript"]["lost_outside_window"]] == ["four"]
    assert not verdict["passed"]


def test_loss_inside_the_window_does_not_fail_the_run(recording: RecordedMeeting) -> None:
    utterances = recording.utterances
    captions = [_caption(u, round(u.end_s * 1000) + 300) for u in utterances if u.text != "two"]
    native = [_row(u) for u in utterances if u.text != "two"]
    verdict = judge(_run(recording, _report(recording), captions=captions, native=native))
    assert verdict["window_s"] == [10.0, 25.3]
    assert verdict["utterances_lost_in_window"] == 1
    assert verdict["passed"]


def test_a_run_that_never_recovers_loses_what_was_due_after_the_cap(
    recording: RecordedMeeting,
) -> None:
    # The stream ended at the fault: only "one" was ever sent, only "one" is stored.
    utterances = recording.utterances
    verdict = judge(
        _run(
            recording,
            _report(recording, sent=1),
            native=[_row(utterances[0])],
            captions=[_caption(utterances[0], 5_500)],
            max_window_ms=20_000,
        )
    )
    assert (verdict["recovered"], verdict["captions_gap_s"]) == (False, None)
    assert verdict["window_s"] == [10.0, 30.0]
    lost = verdict["transcript"]["lost_outside_window"]
    assert [(x["text"], x["simulator"]) for x in lost] == [("four", "never sent")]
    assert not verdict["passed"]


def test_an_utterance_stored_twice_is_doubled_even_with_another_start(
    recording: RecordedMeeting,
) -> None:
    native = [_row(u) for u in recording.utterances] + [_row(recording.utterances[3], 40)]
    verdict = judge(_run(recording, _report(recording), native=native))
    assert verdict["utterances_doubled"] == 1
    assert verdict["transcript"]["doubled"][0]["rows"] == 2
    assert not verdict["passed"]


ONCE = [Row(ANA, 1000, 5000, "one")]


def test_our_transcript_fails_on_a_final_job_that_never_finished(
    recording: RecordedMeeting,
) -> None:
    assert judge(_run(recording, _report(recording), asr=ONCE))["passed"]
    verdict = judge(_run(recording, _report(recording), asr=ONCE, asr_unfinished_jobs=1))
    assert not verdict["passed"]


def test_our_transcript_of_the_same_speech_twice_is_doubled(recording: RecordedMeeting) -> None:
    twice = [*ONCE, Row(ANA, 1500, 4800, "one again")]
    beside = [*ONCE, Row(ANA, 4900, 9000, "then more")]
    assert judge(_run(recording, _report(recording), asr=beside))["asr"]["doubled"] == 0
    verdict = judge(_run(recording, _report(recording), asr=twice))
    assert verdict["asr"]["doubled"] == 1
    assert not verdict["passed"]
