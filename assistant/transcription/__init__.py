"""Our own speech recognition: Whisper (faster-whisper / CTranslate2) on one utterance at a time."""

from assistant.transcription.engine import ContextPiece, Recognition, recognise
from assistant.transcription.model import ModelUnavailable

__all__ = ["ContextPiece", "ModelUnavailable", "Recognition", "recognise"]
