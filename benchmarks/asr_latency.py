"""Our own captions: word and final latency, CPU and word errors, the new and previous policy.

Runs the production shape as real processes (daphne, run_ingest, a Celery `asr` worker on
PostgreSQL and Redis) with TRANSCRIPTION=asr, plays the sample meeting (four participants,
per-participant audio) in real time as 1, then N concurrent meetings, with one live viewer
each, once per policy (a stack each, one after the other in the same run), and prints JSON:

- first-word latency: from when a word is spoken (its end, from word times derived by
  benchmarks/word_timings.py: the fixture has none) to its first appearance at a viewer, shown
  at all (a tentative word included) and shown stable (agreed, or in a final);
- final caption latency p50/p95: from the end of each spoken utterance (the recording's
  `end_s`, when the simulator's clock reached it) to its final caption at the viewer;
- CPU: the worker's and the ingest's CPU seconds per second of speech (cores per actively
  speaking stream), and the speaking streams per core of each run (speech playing at once over
  the machine's cores), with the most at which finals p95 stayed within 2 s;
- WER of our streamed captions against the recording's text, and of the same model over each
  participant's whole track (offline), and their ratio, per model;
- each new policy's figures (attention, agreement: a draft every second) over the previous
  one's (ASR_PROVISIONAL_POLICY=latest, a whole draft every 3 s of voice), and the load
  average around each play (the machine is shared).

    python -m benchmarks.asr_latency [--meetings 1 4] [--policies attention agreement previous]
        [--base-meetings 1 2] [--worker-concurrency 2] [--naive]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import platform
import statistics
import sys
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

    load_before = os.getloadavg()[0]
    cpu_before = {name: process_cpu_s(pid) for name, pid in stack.pids.items()}
    async with RtmsSimulator(recording, config) as simulator:
        # The last sentences are recognised after the end: the viewers read 15 s longer.
        plays = (play_with_viewer(stack, cookie, simulator, after_end_s=15) for _ in range(count))
        results = await asyncio.gather(*plays)
    cpu = {name: process_cpu_s(pid) - cpu_before[name] for name, pid in stack.pids.items()}
    summary = summarise(recording, results, cpu, count)
    summary["load_average_1m"] = [round(load_before, 2), round(os.getloadavg()[0], 2)]
    return summary


def _shown_words(event: dict[str, Any]) -> tuple[int, int]:
    """(words shown, of which stable): a draft's tentative last words are not stable."""
    words = len(event["text"].split())
    tentative = 0 if event["final"] else int(event.get("tentative_words", words))
    return words, words - tentative


def first_word_latencies(
    recording: Any, report: Any, viewer: Any, ends: list[list[float]]
) -> tuple[list[float], list[float]]:
    """Per spoken word: ms from its end (spoken) to its first showing, and to its stable showing.

    The k-th word shown of an utterance (over all its captions, drafts or finals) stands for
    its k-th word spoken (benchmarks/word_timings.py). A word that a final never showed is left
    out; the final itself shows the words it has.
    """
    origin = report.clock_origin_ms or 0
    shown: dict[int, dict[int, tuple[int, int]]] = {}  # utterance -> caption id -> counts
    first: dict[tuple[int, int], int] = {}
    stable: dict[tuple[int, int], int] = {}
    for event, received in zip(viewer.events, viewer.received_ns, strict=True):
        if event.get("type") != "segment" or event.get("source") != "asr":
            continue
        index = match_utterance(event, recording.utterances, origin)
        if index is None:
            continue
        shown.setdefault(index, {})[event["id"]] = _shown_words(event)
        words = sum(n for n, _ in shown[index].values())
        agreed = sum(n for _, n in shown[index].values())
        for k in range(words):
            first.setdefault((index, k), received)
        for k in range(agreed):
            stable.setdefault((index, k), received)
    firsts, stables = [], []
    for (index, k), received in first.items():
        if k < len(ends[index]):
            firsts.append((received - report.due_ns(ends[index][k] * 1000)) / 1e6)
    for (index, k), received in stable.items():
        if k < len(ends[index]):
            stables.append((received - report.due_ns(ends[index][k] * 1000)) / 1e6)
    return firsts, stables


def summarise(recording: Any, results: list[Any], cpu: dict[str, float], count: int) -> dict:
    """Latencies, missing captions, CPU per speaking second and the streamed text."""
    from benchmarks.word_timings import word_ends

    ends = word_ends(recording)
    finals_ms: list[float] = []
    firsts_ms: list[float] = []
    word_first_ms: list[float] = []
    word_stable_ms: list[float] = []
    missing = 0
    streamed_texts: list[dict[int, str]] = []
    for report, viewer in results:
        origin = report.clock_origin_ms or 0
        shown, agreed = first_word_latencies(recording, report, viewer, ends)
        word_first_ms += shown
        word_stable_ms += agreed
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
    speaking_streams = speech_s / recording.duration_s  # speaking at once, on average
    return {
        "meetings": count,
        "utterances": len(finals_ms),
        "missing": missing,
        "final_p50_ms": _p(finals_ms, 50),
        "final_p95_ms": _p(finals_ms, 95),
        "final_max_ms": round(max(finals_ms), 1) if finals_ms else None,
        "first_word_shown_p50_ms": _p(word_first_ms, 50),
        "first_word_shown_p95_ms": _p(word_first_ms, 95),
        "first_word_stable_p50_ms": _p(word_stable_ms, 50),
        "first_word_stable_p95_ms": _p(word_stable_ms, 95),
        "words_timed": len(word_first_ms),
        "first_caption_p50_ms_from_start": _p(firsts_ms, 50),
        "worker_cpu_s": round(cpu.get("worker", 0.0), 1),
        "ingest_cpu_s": round(cpu.get("ingest", 0.0), 1),
        "cores_per_speaking_stream": round(
            (cpu.get("worker", 0.0) + cpu.get("ingest", 0.0)) / speech_s, 3
        ),
        "speaking_streams_per_core": round(speaking_streams / (os.cpu_count() or 1), 2),
        "streamed_texts": streamed_texts,  # one per meeting played
    }


def _p(values: list[float], q: float) -> float | None:
    return round(percentile(values, q), 1) if values else None


def wer_by_track(recording: Any, texts: dict[int, str]) -> float:
    """Word error rate of the concatenated texts of every participant against the recording."""
    from assistant.transcription.wer import word_errors

    errors = words = 0
    for user_id in {u.user_id for u in recording.utterances}:
        reference = " ".join(u.text for u in recording.utterances if u.user_id == user_id)
        e, w = word_errors(reference, texts.get(user_id, ""))
        errors, words = errors + e, words + w
    return errors / words


def offline_texts(recording: Any, model_name: str) -> dict[int, str]:
    """The same model over each participant's whole track at once (the offline reference)."""
    from django.conf import settings
    from faster_whisper import WhisperModel  # type: ignore[import-untyped]

    from assistant.transcription.model import resolve_model_path

    path = resolve_model_path(model_name, Path(settings.VAR_DIR) / "models")
    model = WhisperModel(str(path), device="cpu", compute_type="int8", local_files_only=True)
    texts = {}
    for user_id, audio in recording.audio_files.items():
        segments, _ = model.transcribe(str(audio), language="en", beam_size=5, vad_filter=True)
        texts[user_id] = " ".join(s.text.strip() for s in segments)
    return texts


# The new policy, and the previous one (a whole draft every 3 s of voice), side by side.
POLICIES = {
    "attention": {"ASR_PROVISIONAL_POLICY": "attention", "ASR_PROVISIONAL_EVERY_MS": "1000"},
    "agreement": {"ASR_PROVISIONAL_POLICY": "agreement", "ASR_PROVISIONAL_EVERY_MS": "1000"},
    "previous": {"ASR_PROVISIONAL_POLICY": "latest", "ASR_PROVISIONAL_EVERY_MS": "3000"},
}
FINALS_P95_LIMIT_MS = 2000


def run_policy(
    database_url: str, cookie: str, model: str, policy: str, meetings: list[int], workers: int
) -> dict[str, Any]:
    """One stack with a model and a policy: each count of meetings played, and the WER."""
    from rtms_ingest.simulator.fixture import sample_meeting
    from tests.integration.stack import running_stack

    recording = sample_meeting()
    env = {"TRANSCRIPTION": "asr", "WHISPER_MODEL": model, **POLICIES[policy]}
    with running_stack(
        database_url,
        BENCH_REDIS,
        Path(tempfile.mkdtemp()),
        env,
        worker_queues="asr",
        worker_concurrency=workers,
    ) as stack:
        runs = [asyncio.run(play_meetings(stack, cookie, count)) for count in meetings]
    # Cut points depend on when frames arrive, so the WER varies from play to play: every
    # meeting played in every run is measured, and the mean is what the ratio is of.
    wers = [wer_by_track(recording, texts) for run in runs for texts in run.pop("streamed_texts")]
    passing = [
        r["speaking_streams_per_core"]
        for r in runs
        if r["final_p95_ms"] is not None and r["final_p95_ms"] <= FINALS_P95_LIMIT_MS
    ]
    return {
        "model": model,
        "policy": policy,
        "settings": POLICIES[policy],
        "runs": runs,
        "speaking_streams_per_core_with_finals_p95_within_2s": max(passing, default=None),
        "wer_streamed": round(statistics.fmean(wers), 4),
        "wer_streamed_min_max": [round(min(wers), 4), round(max(wers), 4)],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--meetings", type=int, nargs="+", default=[1, 4])
    parser.add_argument("--policies", nargs="+", default=list(POLICIES), choices=list(POLICIES))
    parser.add_argument(
        "--base-meetings", type=int, nargs="*", default=[], help="base too (first policy)"
    )
    parser.add_argument("--worker-concurrency", type=int, default=2)
    parser.add_argument("--naive", action="store_true", help="also the naive baseline")
    parser.add_argument("--naive-participants", type=int, default=2)
    args = parser.parse_args()
    database_url = prepare_database("transcript,chat,audio")
    cookie = session_cookie()
    from rtms_ingest.simulator.fixture import sample_meeting

    recording = sample_meeting()
    started = time.monotonic()
    plan = [("tiny.en", args.policies, args.meetings)]
    if args.base_meetings:
        plan.append(("base", args.policies[:1], args.base_meetings))
    results = []
    for model, policies, meetings in plan:
        offline = wer_by_track(recording, offline_texts(recording, model))
        for policy in policies:
            result = run_policy(
                database_url, cookie, model, policy, meetings, args.worker_concurrency
            )
            result["wer_offline_same_model"] = round(offline, 4)
            result["wer_streamed_over_offline"] = round(result["wer_streamed"] / offline, 3)
            results.append(result)
    output: dict[str, Any] = {
        "benchmark": "asr_latency",
        "command": " ".join(["python -m benchmarks.asr_latency", *sys.argv[1:]]),
        "measured": {
            "final": "utterance end (recording) -> its final caption at the viewer socket",
            "first_word_shown": "a word's end (derived word times) -> first shown at the viewer",
            "first_word_stable": "the same, to first shown as agreed (not tentative) or final",
        },
        "targets": {
            "first_word_p50_ms": 1000,
            "first_word_p95_ms": 2000,
            "final_p95_ms": 1500,
            "wer_streamed_over_offline": 1.05,
            "cores_per_speaking_stream": 0.25,
        },
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "worker_concurrency": args.worker_concurrency,
        "results": results,
        "new_over_previous": new_over_previous(results),
    }
    if args.naive:
        first = results[0]
        output["naive_baseline"] = naive_baseline(
            first["runs"][0], first["wer_streamed"], args.naive_participants
        )
    output["wall_s"] = round(time.monotonic() - started, 1)
    print(json.dumps(output, indent=2))


def new_over_previous(results: list[dict[str, Any]]) -> dict[str, Any]:
    """Ratios of each new policy's figures to the previous one's, per count of meetings."""
    by_policy = {r["policy"]: r for r in results if r["model"] == "tiny.en"}
    old = by_policy.get("previous")
    if old is None:
        return {}
    keys = ("first_word_shown_p50_ms", "first_word_stable_p50_ms", "first_word_stable_p95_ms",
            "final_p50_ms", "final_p95_ms", "cores_per_speaking_stream")  # fmt: skip
    ratios: dict[str, Any] = {}
    for policy, new in by_policy.items():
        if policy == "previous":
            continue
        of_policy: dict[str, Any] = {}
        for a, b in zip(new["runs"], old["runs"], strict=False):
            of_policy[f"meetings_{a['meetings']}"] = {
                key: round(a[key] / b[key], 3) if a[key] and b[key] else None for key in keys
            }
        of_policy["wer_streamed"] = round(new["wer_streamed"] / old["wer_streamed"], 3)
        ratios[policy] = of_policy
    return ratios


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
