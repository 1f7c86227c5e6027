"""Word error rate: Levenshtein distance over normalised words, divided by the reference length.

Normalisation makes the rate measure recognition, not spelling: case, punctuation, accents and
apostrophes are dropped, and numbers become words ("2.4" -> "two point four", "14th" ->
"fourteenth", "4%" -> "four percent"), so "Zoë ships 2.4" and "zoe ships two point four" agree.
"""

from __future__ import annotations

import re
import unicodedata

_ONES = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
_TENS = ["_", "_", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
_SCALES = ((1_000_000_000, "billion"), (1_000_000, "million"), (1000, "thousand"))
_ORDINALS = {
    "one": "first",
    "two": "second",
    "three": "third",
    "five": "fifth",
    "eight": "eighth",
    "nine": "ninth",
    "twelve": "twelfth",
}
# Spellings that differ without a difference in what was said.
_SPELLINGS = {"ok": "okay", "alright": "all right", "percents": "percent"}

_NUMBER = re.compile(r"(?<![\w.])(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?(st|nd|rd|th)?(%?)(?!\d)")


def _int_words(value: int) -> str:
    """Words for a non-negative integer, e.g. 482 -> "four hundred eighty two"."""
    if value < 20:
        return _ONES[value]
    if value < 100:
        tens, ones = divmod(value, 10)
        return _TENS[tens] + (f" {_ONES[ones]}" if ones else "")
    if value < 1000:
        hundreds, rest = divmod(value, 100)
        return f"{_ONES[hundreds]} hundred" + (f" {_int_words(rest)}" if rest else "")
    for scale, name in _SCALES:
        if value >= scale:
            head, rest = divmod(value, scale)
            return f"{_int_words(head)} {name}" + (f" {_int_words(rest)}" if rest else "")
    raise AssertionError("unreachable")  # pragma: no cover


def _ordinal(words: str) -> str:
    """ "twenty four" -> "twenty fourth"."""
    *head, last = words.split()
    if last in _ORDINALS:
        last = _ORDINALS[last]
    elif last.endswith("y"):
        last = last[:-1] + "ieth"
    else:
        last += "th"
    return " ".join([*head, last])


def _spell_number(match: re.Match[str]) -> str:
    """One number in the text, spelled out."""
    whole, fraction, suffix, percent = match.groups()
    digits = whole.replace(",", "")
    if len(digits) > 12:
        return " ".join(_ONES[int(d)] for d in digits)
    words = _int_words(int(digits))
    if fraction:
        words += " point " + " ".join(_ONES[int(d)] for d in fraction)
    elif suffix:
        words = _ordinal(words)
    if percent:
        words += " percent"
    return f" {words} "


def normalise(text: str) -> list[str]:
    """The words of a text, as compared by the word error rate."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    text = text.replace("\u2019", "'").replace("'", "")
    text = _NUMBER.sub(_spell_number, text)
    text = text.replace("%", " percent ")
    # Dots inside acronyms (Q.A.) vanish; every other non-word character separates words.
    text = re.sub(r"(?<=\w)\.(?=\w)", "", text)
    text = re.sub(r"[^\w]+|_", " ", text)
    words: list[str] = []
    for word in text.split():
        words.extend(_SPELLINGS.get(word, word).split())
    return words


def edit_distance(reference: list[str], hypothesis: list[str]) -> int:
    """Substitutions, deletions and insertions that turn the reference into the hypothesis."""
    previous = list(range(len(hypothesis) + 1))
    for i, ref_word in enumerate(reference, start=1):
        current = [i]
        for j, hyp_word in enumerate(hypothesis, start=1):
            current.append(
                min(
                    previous[j] + 1,
                    current[j - 1] + 1,
                    previous[j - 1] + (ref_word != hyp_word),
                )
            )
        previous = current
    return previous[-1]


def word_errors(reference: str, hypothesis: str) -> tuple[int, int]:
    """(word errors, reference words): sum both over utterances for a corpus-level rate."""
    ref_words = normalise(reference)
    return edit_distance(ref_words, normalise(hypothesis)), len(ref_words)


def word_error_rate(reference: str, hypothesis: str) -> float:
    """Word errors over reference words (an empty reference: 0.0 if nothing was heard, else 1.0)."""
    errors, words = word_errors(reference, hypothesis)
    if words == 0:
        return 0.0 if errors == 0 else 1.0
    return errors / words
