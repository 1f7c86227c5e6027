"""Which words of a running utterance are stable enough to show: attention or agreement.

Each early decode of an utterance in progress gives a hypothesis of its words so far. Two
policies judge which of its words are stable (committed):

- attention (AlignAtt-style, one decode): a word is committed once Whisper's alignment heads
  place its end well before the end of the audio heard (`margin_s`), and so is every word
  before it. A word still being spoken, or that the next
  audio may change, sits at the edge. See `settled_prefix`.
- LocalAgreement-n: a word is committed once `n` consecutive hypotheses agree on it and on
  every word before it (the longest common prefix). It needs a second decode, a cadence later.

Committed words are never taken back, so a provisional caption only grows. The final decode
replaces the whole caption (it is heard with more context and a wider beam). Pure: word
lists in, word lists out.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

_NOT_WORD = re.compile(r"[^\w']+")


def words_of(text: str) -> list[str]:
    """A text's words as shown (punctuation kept on them)."""
    return text.split()


def comparable(word: str) -> str:
    """A word as hypotheses are compared: case and punctuation do not count."""
    return _NOT_WORD.sub("", word).lower()


def agreed_prefix(*hypotheses: Sequence[str]) -> int:
    """How many leading words every hypothesis has in common (compared loosely)."""
    if not hypotheses:
        return 0
    count = 0
    for column in zip(*hypotheses, strict=False):
        if len({comparable(word) for word in column}) != 1:
            break
        count += 1
    return count


def settled_prefix(ends_before_edge_s: Sequence[float], *, margin_s: float) -> int:
    """How many leading words the attention policy holds stable.

    Each, and every word before it, ended at least `margin_s` before the end of the audio heard.
    """
    count = 0
    for before_edge in ends_before_edge_s:
        if before_edge < margin_s:
            break
        count += 1
    return count


@dataclass(frozen=True)
class Agreement:
    """An utterance's streaming state: its last hypotheses (newest last) and committed words."""

    hypotheses: tuple[tuple[str, ...], ...] = ()
    committed: tuple[str, ...] = ()

    def heard(self, hypothesis: Sequence[str], n: int = 2, settled: int | None = None) -> Agreement:
        """The state after one more hypothesis: words agreed by the last `n` are committed, or,
        when `settled` is given (the attention policy), its first `settled` words.

        The committed prefix is monotonic: a hypothesis that contradicts a committed word does
        not take it back (its words after the committed ones are what counts for the next).
        """
        if n < 1:
            raise ValueError("LocalAgreement needs n >= 1")
        kept = len(self.committed)
        hypothesis = tuple(hypothesis)
        if agreed_prefix(hypothesis[:kept], self.committed) < kept:
            # It wandered from what is committed: compare only what it says after as many words.
            hypothesis = self.committed + hypothesis[kept:]
        recent = (*self.hypotheses, hypothesis)[-n:]
        committed = self.committed
        if settled is not None:
            if settled > kept:
                committed = committed + hypothesis[kept:settled]
        elif len(recent) == n:
            agreed = agreed_prefix(*recent)
            if agreed > kept:
                committed = committed + hypothesis[kept:agreed]
        return Agreement(recent[-(n - 1) :] if n > 1 else (), committed)

    @property
    def text(self) -> str:
        """The committed words as a caption."""
        return " ".join(self.committed)
