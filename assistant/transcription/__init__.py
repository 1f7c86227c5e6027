"""Our own speech recognition: Whisper (faster-whisper / CTranslate2) on one utterance at a time."""

import os

# CTranslate2 multiplies with Intel's MKL on Intel CPUs and with oneDNN elsewhere. On an Intel
# Xeon (AVX-512 VNNI) MKL's results made tiny.en worse: the sample meeting's offline WER was 15.1%
# with MKL and 12.0% with oneDNN (11.6% on the machine the figures were first taken on), for
# about 15% more decode time. Set before ctranslate2 is first imported; CT2_USE_MKL=1 in the
# environment still chooses MKL.
os.environ.setdefault("CT2_USE_MKL", "0")

from assistant.transcription.engine import ContextPiece, Recognition, recognise
from assistant.transcription.model import ModelUnavailable

__all__ = ["ContextPiece", "ModelUnavailable", "Recognition", "recognise"]
