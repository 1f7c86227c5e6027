"""recognise(): one utterance's PCM in, its text (or why there is none) out."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path

import numpy as np

from assistant.transcription import guards
from assistant.transcription.decoder import FULL_WINDOW_S, SAMPLE_RATE, Decoded, Decoder
from assistant.transcription.model import ModelSpec, load_model, resolve_model_path

logger = logging.getLogger(__name__)

# Beam 5 cut the sample meeting's WER from 25% to 21% for ~0.08 s more per final; a provisional
# caption is replaced soon anyway, so it takes the cheapest decode.
FINAL_BEAM = 5
PROVISIONAL_BEAM = 1
# Audio per window, leaving room for the decoder's padding: a longer final is cut into pieces
# (each at the quietest 20 ms of its last 3 s); a provisional pass takes only the latest piece.
PIECE_S = FULL_WINDOW_S - 2.0
# Silero VAD: speech must reach this probability; the padding keeps word edges.
VAD_THRESHOLD = 0.5
VAD_PAD_MS = 200
MIN_AUDIO_S = 0.1
SILENCE_MARGIN_S = 0.6  # put around every cut: more than voice detection needs to end a span
CONTEXT_GAP_S = 0.3  # silence between pieces of context, and before the new speech
# A final after a context with fewer words than this per second of its speech (over at least
# MIN_SHORT_CHECK_S) was cut short: heard again without the context. The sample's sentences
# run at 1.5-3.5 words a second (pauses included); its cut-short finals at 0-0.4.
MIN_WORDS_PER_S = 1.0
MIN_SHORT_CHECK_S = 2.0


@dataclass(frozen=True)
class Recognition:
    """What recognise() found in one utterance."""

    text: str  # what was said, stripped; "" when nothing usable was said
    language: str  # ISO code, e.g. "en"
    rejected: str  # "" if accepted, else a short reason ("no speech", "repeated n-gram", ...)
    audio_s: float  # seconds of audio recognised
    decode_s: float  # seconds spent decoding
    # The speech found (16 kHz s16le, trimmed by voice detection): context for the next final.
    speech_pcm16: bytes = field(default=b"", repr=False)
    context_s: float = 0.0  # seconds of earlier speech heard as context
    # A draft's words (asked with `timed`): how long before the end of the audio heard each one
    # ended, by Whisper's alignment heads; () when not asked or not told.
    word_ends_before_edge_s: tuple[float, ...] = ()


@dataclass(frozen=True)
class ContextPiece:
    """An earlier final of the same speaker: its speech and the text recognised in it."""

    pcm16: bytes  # 16 kHz s16le, trimmed by voice detection
    text: str

    @property
    def seconds(self) -> float:
        return len(self.pcm16) / 2 / SAMPLE_RATE


@dataclass(frozen=True)
class EngineConfig:
    """The settings recognise() runs with."""

    model: str
    device: str
    compute_type: str
    language: str
    cache_dir: Path


def settings_config() -> EngineConfig:
    """The WHISPER_* settings."""
    from django.conf import settings

    return EngineConfig(
        model=settings.WHISPER_MODEL,
        device=settings.WHISPER_DEVICE,
        compute_type=settings.WHISPER_COMPUTE_TYPE,
        language=settings.WHISPER_LANGUAGE,
        cache_dir=Path(settings.VAR_DIR) / "models",
    )


@cache
def _decoder(spec: ModelSpec) -> Decoder:
    """The decoder over the process's one loaded model for spec."""
    return Decoder(load_model(spec))


@cache
def decoder_for(config: EngineConfig) -> Decoder:
    """The loaded decoder for a configuration (loads the model on first use)."""
    path = resolve_model_path(config.model, config.cache_dir)
    # One CPU thread: a second did not speed tiny.en up, and each worker process decodes alone.
    spec = ModelSpec(path, config.device, config.compute_type, cpu_threads=1)
    return _decoder(spec)


def pcm16_to_float(pcm16: bytes) -> np.ndarray:
    """Signed 16-bit little-endian PCM to float32 samples in [-1, 1] (an odd last byte dropped)."""
    usable = len(pcm16) - len(pcm16) % 2
    return np.frombuffer(pcm16[:usable], dtype="<i2").astype(np.float32) / 32768.0


def speech_span(samples: np.ndarray) -> tuple[int, int, float]:
    """Silero VAD: (first, last) sample of speech with padding, and seconds of speech found."""
    from faster_whisper.vad import (  # type: ignore[import-untyped]
        VadOptions,
        get_speech_timestamps,
    )

    options = VadOptions(
        threshold=VAD_THRESHOLD, min_silence_duration_ms=300, speech_pad_ms=VAD_PAD_MS
    )
    spans = get_speech_timestamps(samples, options)
    if not spans:
        return 0, 0, 0.0
    speech = sum(span["end"] - span["start"] for span in spans) / SAMPLE_RATE
    return spans[0]["start"], spans[-1]["end"], speech


def speech_spans(samples: np.ndarray, *, join_gap_s: float, max_s: float) -> list[tuple[int, int]]:
    """Silero VAD over a long recording: (first, last) samples of each stretch of speech.

    Stretches closer than `join_gap_s` are joined (a sentence's pauses stay inside it, which
    gives Whisper context), as long as the joined stretch stays under `max_s`.
    """
    from faster_whisper.vad import (
        VadOptions,
        get_speech_timestamps,
    )

    options = VadOptions(
        threshold=VAD_THRESHOLD,
        min_silence_duration_ms=300,
        speech_pad_ms=VAD_PAD_MS,
        max_speech_duration_s=max_s,
    )
    joined: list[tuple[int, int]] = []
    for span in get_speech_timestamps(samples, options):
        start, end = span["start"], span["end"]
        if joined:
            first, last = joined[-1]
            if start - last <= join_gap_s * SAMPLE_RATE and end - first <= max_s * SAMPLE_RATE:
                joined[-1] = (first, end)
                continue
        joined.append((start, end))
    return joined


def _pieces(samples: np.ndarray) -> list[np.ndarray]:
    """Audio longer than one window cut into pieces, each at the quietest 20 ms near its end."""
    piece, frame = int(PIECE_S * SAMPLE_RATE), SAMPLE_RATE // 50
    pieces = []
    while len(samples) > piece:
        search = samples[piece - 3 * SAMPLE_RATE : piece]
        energy = np.square(search[: len(search) // frame * frame].reshape(-1, frame)).sum(axis=1)
        cut = piece - 3 * SAMPLE_RATE + int(np.argmin(energy)) * frame
        pieces.append(samples[:cut])
        samples = samples[cut:]
    pieces.append(samples)
    return pieces


def _language(requested: str | None, config: EngineConfig, decoder: Decoder) -> str:
    """The language to decode in: "auto", or a code the model knows (English-only: "en")."""
    language = (requested or config.language).strip().lower()
    if not decoder.multilingual:
        return "en"
    if language != "auto" and language not in decoder.languages:
        raise ValueError(f"unknown language {language!r} for WHISPER_MODEL={config.model!r}")
    return language


def _undecoded_language(requested: str | None, config: EngineConfig) -> str:
    """The language to report when nothing was decoded ("und": undetermined, ISO 639-2)."""
    language = (requested or config.language).strip().lower()
    if config.model.endswith(".en"):
        return "en"
    return "und" if language == "auto" else language


def _judge(
    text: str, decoded: list[Decoded], *, audio_s: float, speech_s: float, dbfs: float
) -> str:
    """The guards' verdict on the joined text of one or more decoded windows."""
    # A window judged as no speech on its own must not sink the other windows of a long final.
    best = min(decoded, key=lambda d: guards.is_no_speech(d.no_speech_prob, d.avg_logprob))
    return guards.rejection(
        text,
        audio_s=audio_s,
        speech_s=speech_s,
        dbfs=dbfs,
        no_speech_prob=best.no_speech_prob,
        avg_logprob=best.avg_logprob,
    )


def _with_context(
    speech: np.ndarray, context: Sequence[ContextPiece], limit_s: float
) -> tuple[np.ndarray, str, float]:
    """The speaker's latest earlier speech (whole pieces, `limit_s` in all) before this speech.

    Whisper recognises a short sentence much better when it hears it after what the same
    voice said before, as it does in a long recording: on the sample meeting, finals cut at
    pauses went from 24% WER alone to 13% with 28 s of context (offline, whole tracks: 12%).
    Only the continuation after the context's known text is kept.
    """
    taken: list[ContextPiece] = []
    total = len(speech) / SAMPLE_RATE
    for piece in reversed(context):
        if total + piece.seconds + CONTEXT_GAP_S > limit_s:
            break
        taken.insert(0, piece)
        total += piece.seconds + CONTEXT_GAP_S
    if not taken:
        return speech, "", 0.0
    gap = np.zeros(int(CONTEXT_GAP_S * SAMPLE_RATE), dtype=np.float32)
    parts = [part for piece in taken for part in (pcm16_to_float(piece.pcm16), gap)]
    heard = np.concatenate([*parts, speech])
    return heard, " ".join(piece.text for piece in taken), total - len(speech) / SAMPLE_RATE


def _cut_short(text: str, speech_s: float) -> bool:
    """Whether a final says far fewer words than its speech holds (people say 2-3 a second)."""
    return speech_s >= MIN_SHORT_CHECK_S and len(text.split()) < MIN_WORDS_PER_S * speech_s


def recognise(
    pcm16: bytes,
    *,
    final: bool,
    language: str | None = None,
    prompt: str = "",
    config: EngineConfig | None = None,
    context: Sequence[ContextPiece] = (),
    context_s: float = 0.0,
    committed: str = "",
    timed: bool = False,
) -> Recognition:
    """Recognise one utterance (or a window of a long one): 16 kHz mono s16le PCM.

    `config` defaults to the WHISPER_* settings (re-transcription names another model). A final
    that fits one window is heard after up to `context_s` of `context` (the speaker's earlier
    finals, oldest first) and with `prompt` (the last of their texts) as the previous text. A
    provisional decode of a running utterance starts with the words
    already `committed` for it (services/streaming.py) and returns them with what follows;
    with `timed` it also says how long before the audio's end each word ended.
    """
    config = config or settings_config()
    samples = pcm16_to_float(pcm16)
    audio_s = len(samples) / SAMPLE_RATE
    nothing = Recognition("", _undecoded_language(language, config), "", audio_s, 0.0)
    dbfs = guards.energy_dbfs(samples)
    if audio_s < MIN_AUDIO_S or guards.is_silent(dbfs):
        # Decided before any model work: silence costs no decode call.
        return replace(nothing, rejected="no speech" if audio_s else "no audio")
    decoder = decoder_for(config)
    lang = _language(language, config, decoder)
    started = time.perf_counter()
    # Zoom sends no frames for silence, so a cut may start and end right on its words: the
    # silence is put back, and voice detection then keeps the same margin either way.
    margin = int(SILENCE_MARGIN_S * SAMPLE_RATE)
    padded = np.pad(samples, margin)
    first, last, speech_s = speech_span(padded)
    if speech_s == 0:
        return replace(nothing, rejected="no speech", decode_s=time.perf_counter() - started)
    speech = padded[first:last]
    beam = FINAL_BEAM if final else PROVISIONAL_BEAM
    pieces = _pieces(speech) if final else [speech[-int(PIECE_S * SAMPLE_RATE) :]]
    # Where the audio heard ends in the last piece (the margin's silence after it is not heard).
    edge_s = (margin + len(samples) - first - (len(speech) - len(pieces[-1]))) / SAMPLE_RATE
    known, heard_before = "", 0.0
    if final and len(pieces) == 1 and context and lang != "auto":
        pieces[0], known, heard_before = _with_context(speech, context, min(context_s, PIECE_S))
    elif not final and committed.strip() and len(speech) <= int(PIECE_S * SAMPLE_RATE):
        known = committed.strip()
    # A final's `prompt` is the speaker's previous final text: with the context's speech it cut
    # the sample's streamed finals from 12.7% to 12.0% WER (offline 11.6%). Alone, without the
    # context, it had raised the WER (26.3% vs 25.1%); drafts do without it (cheaper).
    previous = prompt if final else ""
    decoded = decoder.decode(
        pieces,
        language=lang,
        beam_size=beam,
        prefix_text=known,
        previous_text=previous,
        word_ends=timed and not final,
    )
    kept = [d for d in decoded if not guards.is_no_speech(d.no_speech_prob, d.avg_logprob)]
    text = guards.clean_text(" ".join(d.text for d in kept))
    if final and known and _cut_short(text, speech_s):
        # After a context Whisper now and then ends the continuation early (a word or two of a
        # long sentence, or none): the sentence is heard again on its own, and the longer kept.
        alone = decoder.decode([speech], language=lang, beam_size=beam)
        again = guards.clean_text(alone[0].text)
        logger.info("final cut short after context (%r): alone %r", text, again)
        if len(again.split()) > len(text.split()):
            decoded, text, heard_before = alone, again, 0.0
    reason = _judge(text, decoded, audio_s=len(speech) / SAMPLE_RATE, speech_s=speech_s, dbfs=dbfs)
    found = decoded[0].language if lang == "auto" else lang
    if not final and known:
        # The committed words stand whatever the guards say of what follows them.
        text, reason = " ".join(part for part in (known, "" if reason else text) if part), ""
    ends = decoded[-1].word_ends_s if timed and not final else ()
    if len(ends) < len(text.split()):
        ends = ()  # the alignment's words are not the text's: none is timed
    return Recognition(
        "" if reason else text,
        found,
        reason,
        audio_s,
        time.perf_counter() - started,
        speech_pcm16=(speech * 32768.0).clip(-32768, 32767).astype("<i2").tobytes(),
        context_s=heard_before,
        word_ends_before_edge_s=tuple(round(edge_s - end, 3) for end in ends[: len(text.split())]),
    )
