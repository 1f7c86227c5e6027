"""A meeting's chosen language drives the multilingual base model (Zoom id -> Whisper code)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from assistant.models import Meeting
from assistant.services import meeting_language
from assistant.transcription import recognise
from assistant.transcription.wer import word_error_rate
from tests.assistant.transcription.test_engine import _cut, _utterance

SPANISH, ENGLISH = 28, 9


@pytest.fixture
def base_model(settings: Any, tmp_path: Path) -> None:
    settings.WHISPER_MODEL = "base"  # its packages are test requirements
    settings.WHISPER_LANGUAGE = "auto"
    settings.VAR_DIR = tmp_path


def _whisper_language(language: int | None) -> str | None:
    return meeting_language.whisper_language(Meeting(language=language))


def test_a_meeting_in_english_is_heard_in_english(base_model: None) -> None:
    utterance = _utterance("Okay, the main decision.")
    result = recognise(_cut(utterance), final=True, language=_whisper_language(ENGLISH))
    assert result.language == "en"
    assert word_error_rate(utterance["text"], result.text) <= 0.15


def test_a_meeting_in_spanish_is_decoded_in_spanish_not_detected(base_model: None) -> None:
    # English speech: detection would say "en" (test_engine); the forced language wins.
    utterance = _utterance("Okay, the main decision.")
    result = recognise(_cut(utterance), final=True, language=_whisper_language(SPANISH))
    assert result.language == "es"


def test_detection_leaves_whisper_to_its_setting(settings: Any) -> None:
    settings.MEETING_LANGUAGE = -1
    assert _whisper_language(None) is None
    assert _whisper_language(-1) is None
    settings.MEETING_LANGUAGE = 12  # French (Canada): Whisper knows French, not its regions
    assert _whisper_language(None) == "fr"
