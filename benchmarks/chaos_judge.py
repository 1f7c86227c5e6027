"""Judging one chaos run: what the simulator sent, against what was stored and what a viewer saw.

Everything is on the stream clock, in ms (the recording's times; the database and the wire add
the clock origin, taken off before judging). Definitions, as the JSON reports them:

- fault: the instant the fault was injected (a signal sent, a database closed, a socket cut).
- window: from the fault to the first caption a live viewer received of an utterance the
  simulator sent after the fault (the system demonstrably works again), capped at
  `max_window_ms` (Zoom itself gives up on a stream after 60 s without signaling). With no
  such caption the window ends at the cap and the run did not recover.
- captions gap: the window's length when it recovered; natural gap: from the fault to the next
  utterance the simulator was due to send (what the gap would be without any fault).
- an utterance's time: when the simulator sent it (or found no client socket to send it on);
  one never sent because the stream ended early counts at the time it was due.
- lost: not stored (no native TranscriptSegment of the meeting with that speaker and
  start/end, or that speaker and text); lost outside the window: its time is before the fault
  or after the window. Doubled: stored more than once. Chat lines likewise.
- ASR (our own transcript) has no fixed reference: the recogniser may rightly hear nothing in
  a short utterance. It is judged by what cannot be right: final cuts whose job never finished
  (their audio still waiting in Redis after the settle time) and final segments of one speaker
  that cover the same speech twice (over half of the shorter). Coverage is reported as well.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from rtms_ingest.simulator import StreamReport, TextDelivery
from rtms_ingest.simulator.fixture import RecordedMeeting

DEFAULT_MAX_WINDOW_MS = 60_000
# Two final ASR segments of one speaker overlapping by more than this share of the shorter one
# say the same speech twice.
ASR_DOUBLE_OVERLAP = 0.5


@dataclass(frozen=True)
class Row:
    """A stored segment or chat line, on the stream clock."""

    speaker: int | None
    start_ms: int
    end_ms: int
    text: str
    final: bool = True


@dataclass(frozen=True)
class Caption:
    """A segment event a live viewer received, and when (stream ms)."""

    source: str
    speaker: int | None
    start_ms: int
    end_ms: int
    text: str
    final: bool
    received_ms: int


@dataclass(frozen=True)
class Said:
    """One utterance or chat line of the recording and what the simulator did with it."""

    key: tuple[int, int]  # (user_id, start ms)
    end_ms: int
    text: str
    at_ms: int  # when it was sent, found no socket, or (never sent) was due
    fate: str  # "delivered", "no socket", "never sent"


@dataclass
class RunRecord:
    """What a judge needs of one played meeting."""

    recording: RecordedMeeting
    report: StreamReport
    fault_ms: int | None
    native: list[Row]
    asr: list[Row]
    chat: list[Row]
    captions: list[Caption]
    asr_unfinished_jobs: int = 0
    transcript_delay_ms: int = 200
    max_window_ms: int = DEFAULT_MAX_WINDOW_MS
    names: dict[int, str] = field(default_factory=dict)


def utterances_said(run: RunRecord) -> list[Said]:
    """Every utterance of the recording with its fate at the simulator."""
    sent = _by_key(run.report.texts, "transcript")
    end_ms = round(run.recording.duration_s * 1000)
    said = []
    for u in run.recording.utterances:
        key = (u.user_id, round(u.start_s * 1000))
        due = min(round(u.end_s * 1000) + run.transcript_delay_ms, end_ms)
        said.append(_said(key, round(u.end_s * 1000), u.text, sent.get(key), due))
    return said


def chat_said(run: RunRecord) -> list[Said]:
    """Every chat line of the recording with its fate at the simulator."""
    sent = _by_key(run.report.texts, "chat")
    said = []
    for c in run.recording.chat:
        key = (c.user_id, round(c.at_s * 1000))
        said.append(_said(key, key[1], c.text, sent.get(key), key[1]))
    return said


def _by_key(texts: list[TextDelivery], kind: str) -> dict[tuple[int, int], TextDelivery]:
    return {(t.user_id, t.start_ms): t for t in texts if t.kind == kind}


def _said(
    key: tuple[int, int], end_ms: int, text: str, sent: TextDelivery | None, due_ms: int
) -> Said:
    if sent is None:
        return Said(key, end_ms, text, due_ms, "never sent")
    return Said(key, end_ms, text, sent.stream_ms, "delivered" if sent.delivered else "no socket")


def match_rows(said: list[Said], rows: list[Row]) -> tuple[dict[tuple[int, int], int], int]:
    """How many stored rows each said thing has (by speaker and start/end, else by text); and
    how many rows match nothing said."""
    exact = {(s.key[0], s.key[1], s.end_ms): s.key for s in said}
    by_text = {(s.key[0], s.text.strip()): s.key for s in said}
    counts: dict[tuple[int, int], int] = defaultdict(int)
    unmatched = 0
    for row in rows:
        key = exact.get((row.speaker or 0, row.start_ms, row.end_ms))
        key = key or by_text.get((row.speaker or 0, row.text.strip()))
        if key is None:
            unmatched += 1
        else:
            counts[key] += 1
    return counts, unmatched


def window(run: RunRecord, said: list[Said], source: str) -> tuple[int, int, bool] | None:
    """(start, end, recovered) of the fault window by `source` captions; None without a fault."""
    if run.fault_ms is None:
        return None
    fault, cap = run.fault_ms, run.fault_ms + run.max_window_ms
    if source == "native":
        after = {s.key for s in said if s.at_ms > fault and s.fate == "delivered"}
        seen = [
            c.received_ms
            for c in run.captions
            if c.source == "native" and (c.speaker or 0, c.start_ms) in after
        ]
    else:
        seen = [
            c.received_ms
            for c in run.captions
            if c.source == source and c.text and c.end_ms > fault and c.received_ms > fault
        ]
    first = min(seen, default=None)
    if first is None or first > cap:
        return fault, cap, False
    return fault, first, True


def judge_text(
    run: RunRecord, said: list[Said], rows: list[Row], span: tuple[int, int, bool] | None
) -> dict[str, Any]:
    """Lost (in and outside the window `span`) and doubled, for utterances or chat lines."""
    counts, unmatched = match_rows(said, rows)
    lost_in: list[dict[str, Any]] = []
    lost_out: list[dict[str, Any]] = []
    for s in said:
        if counts.get(s.key, 0):
            continue
        inside = span is not None and span[0] <= s.at_ms <= span[1]
        (lost_in if inside else lost_out).append(describe(run, s))
    return {
        "count": len(said),
        "stored": sum(1 for s in said if counts.get(s.key, 0)),
        "delivered": sum(1 for s in said if s.fate == "delivered"),
        "no_socket": sum(1 for s in said if s.fate == "no socket"),
        "never_sent": sum(1 for s in said if s.fate == "never sent"),
        "lost_outside_window": lost_out,
        "lost_in_window": lost_in,
        "doubled": [describe(run, s) | {"rows": counts[s.key]} for s in said if counts[s.key] > 1],
        "stored_matching_nothing_said": unmatched,
    }


def describe(run: RunRecord, said: Said) -> dict[str, Any]:
    """A said thing, short, for the JSON."""
    return {
        "speaker": run.names.get(said.key[0], said.key[0]),
        "start_s": round(said.key[1] / 1000, 2),
        "text": said.text[:48],
        "simulator": said.fate,
        "at_s": round(said.at_ms / 1000, 2),
    }


def judge_asr(run: RunRecord, said: list[Said]) -> dict[str, Any]:
    """Our own transcript: unfinished final jobs, doubles, coverage and its captions gap."""
    finals = [row for row in run.asr if row.final]
    doubled = 0
    by_speaker: dict[int | None, list[Row]] = defaultdict(list)
    for row in sorted(finals, key=lambda r: r.start_ms):
        for other in by_speaker[row.speaker]:
            shorter = min(row.end_ms - row.start_ms, other.end_ms - other.start_ms)
            overlap = min(row.end_ms, other.end_ms) - max(row.start_ms, other.start_ms)
            if shorter > 0 and overlap > ASR_DOUBLE_OVERLAP * shorter:
                doubled += 1
        by_speaker[row.speaker].append(row)
    covered = [s for s in said if _covered(s, finals)]
    span = window(run, said, "asr")
    outside = [s for s in said if span is None or s.end_ms < span[0] or s.key[1] > span[1]]
    return {
        "final_segments": len(finals),
        "provisional_left": sum(1 for row in run.asr if not row.final),
        "unfinished_final_jobs": run.asr_unfinished_jobs,
        "doubled": doubled,
        "utterances_covered": len(covered),
        "uncovered_outside_window": [
            describe(run, s) for s in outside if not any(s is c for c in covered)
        ],
        "captions_gap_s": _gap_s(span),
    }


def _covered(said: Said, finals: list[Row]) -> bool:
    return any(
        row.speaker == said.key[0] and min(row.end_ms, said.end_ms) > max(row.start_ms, said.key[1])
        for row in finals
    )


def _gap_s(span: tuple[int, int, bool] | None) -> float | None:
    if span is None or not span[2]:
        return None
    return round((span[1] - span[0]) / 1000, 2)


def judge(run: RunRecord) -> dict[str, Any]:
    """Every measure of one run, and whether it passed (nothing lost outside, nothing doubled)."""
    said = utterances_said(run)
    span = window(run, said, "native")
    native = judge_text(run, said, run.native, span)
    chat = judge_text(run, chat_said(run), run.chat, span)
    asr = judge_asr(run, said)
    fault = run.fault_ms
    natural = min((s.at_ms for s in said if fault is not None and s.at_ms > fault), default=None)
    passed = not (
        native["lost_outside_window"]
        or native["doubled"]
        or chat["lost_outside_window"]
        or chat["doubled"]
        or asr["unfinished_final_jobs"]
        or asr["doubled"]
    )
    return {
        "captions_gap_s": _gap_s(span),
        "natural_gap_s": None
        if natural is None or fault is None
        else round((natural - fault) / 1000, 2),
        "window_s": None if span is None else [round(span[0] / 1000, 2), round(span[1] / 1000, 2)],
        "recovered": None if span is None else span[2],
        "utterances_lost_outside_window": len(native["lost_outside_window"]),
        "utterances_lost_in_window": len(native["lost_in_window"]),
        "utterances_doubled": len(native["doubled"]),
        "transcript": native,
        "chat": chat,
        "asr": asr,
        "passed": passed,
    }
