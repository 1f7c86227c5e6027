"""Guards against Whisper's hallucinations: pure functions over the audio's numbers and the text.

Whisper invents text when there is no speech: stock phrases from its training subtitles
("Thank you.", "Thanks for watching!") on silence or noise, and loops ("the the the ...") when
decoding goes wrong. Each guard returns a short reason, or "" when the text may stand.
"""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter

import numpy as np

# Below this the utterance is treated as silence and never decoded. Speech at a normal level
# sits around -30 to -15 dBFS; the quietest real speakers seldom go below -50.
SILENCE_DBFS = -55.0
# Whisper's own no-speech rule: both must hold, so a confident decode survives a high prob.
NO_SPEECH_PROB = 0.6
NO_SPEECH_LOGPROB = -1.0
# Fast speech is about 4 words per second; the slack covers short bursts ("Yes, I'll do it").
MAX_WORDS_PER_S = 6.0
WORDS_SLACK = 2
# The known phrases are rejected only when the audio could not hold them as real speech:
# quiet, or less speech than a word takes.
QUIET_DBFS = -40.0
SHORT_SPEECH_S = 0.3

# Stock phrases Whisper produces on silence, music and noise (compared after _canonical).
KNOWN_HALLUCINATIONS = frozenset(
    {
        "you",
        "thank you",
        "thank you very much",
        "thank you so much",
        "thanks",
        "thanks for watching",
        "thank you for watching",
        "thanks for watching and see you next time",
        "please subscribe",
        "like and subscribe",
        "please like and subscribe",
        "subscribe to my channel",
        "bye",
        "bye bye",
        "goodbye",
        "so",
        "okay",
        "oh",
        "uh",
        "um",
        "hmm",
        "music",
        "upbeat music",
        "applause",
        "laughter",
        "silence",
        "blank audio",
        "no audio",
        "inaudible",
        "foreign",
        "the end",
        "i",
    }
)
_KNOWN_PREFIXES = ("subtitles by", "captions by", "transcribed by", "translated by", "www ")
_SOUND_TAG = re.compile(r"^\s*[\[(*♪].*[\])*♪]\s*$")


def energy_dbfs(samples: np.ndarray) -> float:
    """RMS level of float samples in [-1, 1], in dB below full scale (-inf for digital silence)."""
    if samples.size == 0:
        return -math.inf
    rms = float(np.sqrt(np.mean(np.square(samples, dtype=np.float64))))
    return 20 * math.log10(rms) if rms > 0 else -math.inf


def is_silent(dbfs: float, floor: float = SILENCE_DBFS) -> bool:
    """True when the audio is too quiet to hold speech (checked before decoding)."""
    return dbfs < floor


def clean_text(text: str) -> str:
    """Leading and trailing whitespace stripped, runs of whitespace collapsed to one space."""
    return " ".join(text.split())


def is_no_speech(no_speech_prob: float, avg_logprob: float) -> bool:
    """Whisper's rule: the no-speech token is likely and the decoded text is unlikely."""
    return no_speech_prob > NO_SPEECH_PROB and avg_logprob < NO_SPEECH_LOGPROB


def _words(text: str) -> list[str]:
    """Lower-case words without punctuation."""
    return re.findall(r"[\w']+", text.lower())


def has_repeated_ngram(text: str, n: int = 3, times: int = 3) -> bool:
    """True when some n-gram occurs `times` times or more, or one word 4+ times in a row."""
    words = _words(text)
    run = 1
    for previous, word in itertools.pairwise(words):
        run = run + 1 if word == previous else 1
        if run >= 4:
            return True
    grams = Counter(tuple(words[i : i + n]) for i in range(len(words) - n + 1))
    return any(count >= times for count in grams.values())


def too_many_words(text: str, audio_s: float) -> bool:
    """True when the text holds more words than anyone could say in the audio's duration."""
    return len(_words(text)) > MAX_WORDS_PER_S * audio_s + WORDS_SLACK


def _canonical(text: str) -> str:
    """Lower case, punctuation dropped, whitespace collapsed: the form the phrase list uses."""
    return " ".join(_words(text.replace("-", " ")))


def is_sound_tag(text: str) -> bool:
    """True for a description of a sound instead of words: "[Music]", "(upbeat music)", "♪"."""
    return bool(_SOUND_TAG.match(text))


def is_known_hallucination(text: str) -> bool:
    """True for the stock phrases Whisper invents on silence and noise."""
    canonical = _canonical(text)
    return canonical in KNOWN_HALLUCINATIONS or canonical.startswith(_KNOWN_PREFIXES)


def rejection(
    text: str,
    *,
    audio_s: float,
    speech_s: float,
    dbfs: float,
    no_speech_prob: float,
    avg_logprob: float,
) -> str:
    """Why the decoded text must not be shown, or "" when it may: the guards in order."""
    if not text:
        return "no speech"
    if is_no_speech(no_speech_prob, avg_logprob):
        return "no speech"
    if is_sound_tag(text):
        return "sound, not speech"
    if has_repeated_ngram(text):
        return "repeated n-gram"
    if too_many_words(text, audio_s):
        return "too many words for the audio"
    if is_known_hallucination(text) and (dbfs < QUIET_DBFS or speech_s < SHORT_SPEECH_S):
        return "known hallucination"
    return ""
