"""Whisper decoding through CTranslate2 directly, with an encoder window fitted to the audio.

faster-whisper's `transcribe` always pads the log-Mel features to 30 s, so every call pays for
a 30 s encoder pass whatever the audio's length. Whisper's encoder accepts fewer frames: a
window of the audio plus a second of silence, but never under MIN_WINDOW_S (shorter windows
make tiny.en lose words and loop), cut the encoder's cost about fivefold on the sample meeting
at the same word error rate (measured by benchmarks/asr_engine.py).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

SAMPLE_RATE = 16000
FRAMES_PER_S = 100  # log-Mel frames
HOP = SAMPLE_RATE // FRAMES_PER_S
FULL_WINDOW_S = 30.0
MIN_WINDOW_S = 10.0
# Silence after the speech inside the window, and before it: both measured to help.
TAIL_PAD_S = 1.0
LEAD_PAD_S = 0.3
# Nobody says more than about 7 tokens a second; the bound stops a runaway loop early.
MAX_TOKENS_PER_S = 10
MAX_TOKENS_SLACK = 16
MAX_LENGTH = 448
# tiny.en loops on short windows ("anything from support anything from support ..."); blocking
# a repeated 4-gram stops that without touching real speech.
NO_REPEAT_NGRAM = 4


@dataclass(frozen=True)
class Decoded:
    """One window's decode: the text and the numbers the guards judge it by."""

    text: str
    no_speech_prob: float
    avg_logprob: float
    language: str
    # When asked for: when each word of the prefix and text ends (s after the window's audio
    # starts), from the cross-attention alignment; () when it could not be told.
    word_ends_s: tuple[float, ...] = ()


def window_frames(samples: int, *, fitted: bool = True) -> int:
    """Encoder frames for a window holding `samples` samples (even, at most 30 s)."""
    full = int(FULL_WINDOW_S * FRAMES_PER_S)
    if not fitted:
        return full
    needed = int((samples / SAMPLE_RATE + TAIL_PAD_S) * FRAMES_PER_S)
    frames = max(int(MIN_WINDOW_S * FRAMES_PER_S), needed)
    return min(full, frames + frames % 2)


class Decoder:
    """A loaded WhisperModel's CTranslate2 model, tokenizer and feature extractor, used directly."""

    def __init__(self, model: Any) -> None:
        from faster_whisper.transcribe import (  # type: ignore[import-untyped]
            get_suppressed_tokens,
        )

        self.model = model
        self.multilingual = bool(model.model.is_multilingual)
        self._tokenizers: dict[str, Any] = {}
        english = self.tokenizer("en")
        self.suppress_tokens = list(get_suppressed_tokens(english, [-1]))

    def tokenizer(self, language: str) -> Any:
        """The tokenizer for a language (English-only models have one)."""
        from faster_whisper.tokenizer import Tokenizer  # type: ignore[import-untyped]

        key = language if self.multilingual else "en"
        if key not in self._tokenizers:
            self._tokenizers[key] = Tokenizer(
                self.model.hf_tokenizer, self.multilingual, task="transcribe", language=key
            )
        return self._tokenizers[key]

    @property
    def languages(self) -> list[str]:
        """Language codes the model can transcribe."""
        return list(self.model.supported_languages)

    def features(self, audio: np.ndarray, frames: int) -> np.ndarray:
        """Log-Mel features, `frames` long, of the audio between a short lead and a silent tail."""
        # The silence is padded as audio, before the Mel transform, as Whisper was trained
        # (faster-whisper pads the features with zeros instead): WER 19% vs 23% on the sample.
        lead = int(LEAD_PAD_S * SAMPLE_RATE)
        padded = np.zeros(max(frames * HOP, lead + len(audio)), dtype=np.float32)
        padded[lead : lead + len(audio)] = audio
        mel = self.model.feature_extractor(padded)[:, :frames]
        return np.pad(mel, ((0, 0), (0, frames - mel.shape[-1])))

    def decode(
        self,
        windows: list[np.ndarray],
        *,
        language: str,
        beam_size: int,
        fitted: bool = True,
        previous_text: str = "",
        prefix_text: str = "",
        word_ends: bool = False,
    ) -> list[Decoded]:
        """Decode audio windows (each at most 30 s) in one batched encoder and decoder call.

        `prefix_text` is what the start of every window is known to say: the decoder is made to
        begin with it and only its continuation is returned (a speaker's earlier speech heard
        again as context, see engine.recognise). With `word_ends` (one window only), the result
        also says when each of its words (the prefix's, then the text's) ends in the window, as
        Whisper's alignment heads place them (one more teacher-forced decoder pass).
        """
        import ctranslate2  # type: ignore[import-untyped]

        longest = max(len(w) for w in windows) + int(LEAD_PAD_S * SAMPLE_RATE)
        frames = window_frames(longest, fitted=fitted)
        batch = np.ascontiguousarray(np.stack([self.features(w, frames) for w in windows]))
        encoded = self.model.model.encode(ctranslate2.StorageView.from_array(batch))
        languages = self._languages(encoded, language, len(windows))
        prefixes = [self._prefix(lang, prefix_text) for lang in languages]
        prompts = [
            [*self._prompt(lang, previous_text), *prefix]
            for lang, prefix in zip(languages, prefixes, strict=True)
        ]
        audio_s = max(len(w) for w in windows) / SAMPLE_RATE
        max_new = int(MAX_TOKENS_PER_S * audio_s) + MAX_TOKENS_SLACK
        results = self.model.model.generate(
            encoded,
            prompts,
            beam_size=beam_size,
            max_length=min(MAX_LENGTH, max(len(p) for p in prompts) + max_new),
            no_repeat_ngram_size=NO_REPEAT_NGRAM,
            return_scores=True,
            return_no_speech_prob=True,
            suppress_blank=True,
            suppress_tokens=self.suppress_tokens,
        )
        decoded = [
            self._decoded(r, lang, prefix)
            for r, lang, prefix in zip(results, languages, prefixes, strict=True)
        ]
        if not word_ends:
            return decoded
        if len(windows) != 1:
            raise ValueError("word ends are told for one window at a time")
        content = int((LEAD_PAD_S + len(windows[0]) / SAMPLE_RATE + TAIL_PAD_S) * FRAMES_PER_S)
        ends = self._word_ends(
            encoded, results[0].sequences_ids[0], languages[0], min(frames, content)
        )
        return [replace(decoded[0], word_ends_s=ends)]

    def _word_ends(
        self, encoded: Any, tokens: list[int], language: str, frames: int
    ) -> tuple[float, ...]:
        """When each whitespace-separated word of `tokens` ends (s after the audio's start)."""
        tokenizer = self.tokenizer(language)
        tokens = [t for t in tokens if t < tokenizer.eot]
        if not tokens:
            return ()
        aligned = self.model.find_alignment(tokenizer, [tokens], encoded, frames)[0]
        ends: list[float] = []
        for word in aligned:
            if word["tokens"][0] >= tokenizer.eot:
                continue
            end = max(0.0, float(word["end"]) - LEAD_PAD_S)
            if ends and not str(word["word"]).startswith(" "):
                ends[-1] = end  # a word's later piece (or its punctuation) ends it
            else:
                ends.append(end)
        return tuple(ends)

    def _prefix(self, language: str, text: str) -> list[int]:
        """The tokens the decoder is made to start with (at most half its length)."""
        if not text.strip():
            return []
        return list(self.tokenizer(language).encode(" " + text.strip()))[-(MAX_LENGTH // 2) :]

    def _prompt(self, language: str, previous_text: str) -> list[int]:
        """The decoder's prompt: optional previous text, start of transcript, no timestamps."""
        tokenizer = self.tokenizer(language)
        prompt = [*tokenizer.sot_sequence, tokenizer.no_timestamps]
        if previous_text.strip():
            previous = tokenizer.encode(" " + previous_text.strip())[-(MAX_LENGTH // 2 - 1) :]
            prompt = [tokenizer.sot_prev, *previous, *prompt]
        return prompt

    def _languages(self, encoded: Any, language: str, count: int) -> list[str]:
        """The language of each window: as given, or detected when "auto"."""
        if not self.multilingual:
            return ["en"] * count
        if language != "auto":
            return [language] * count
        detected = self.model.model.detect_language(encoded)
        return [str(ranked[0][0])[2:-2] for ranked in detected]

    def _decoded(self, result: Any, language: str, prefix: list[int]) -> Decoded:
        """Text and scores of one generation result (without the forced prefix)."""
        tokens = result.sequences_ids[0]
        if prefix and tokens[: len(prefix)] == prefix:
            tokens = tokens[len(prefix) :]
        # CTranslate2 returns the cumulative log-probability over length (length_penalty 1);
        # Whisper's avg_logprob divides by length + 1 (the end token).
        avg_logprob = result.scores[0] * len(tokens) / (len(tokens) + 1)
        text = self.tokenizer(language).decode(tokens)
        return Decoded(text, float(result.no_speech_prob), float(avg_logprob), language)
