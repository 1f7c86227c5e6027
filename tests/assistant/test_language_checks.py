"""An English-only Whisper model with another language configured is flagged (assistant.W041)."""

from __future__ import annotations

from django.core.checks import run_checks
from django.test import override_settings

from assistant import languages


def _language_warnings() -> list[str]:
    return [str(m.msg) for m in run_checks() if m.id == "assistant.W041"]


@override_settings(WHISPER_MODEL="tiny.en", MEETING_LANGUAGE=28, WHISPER_LANGUAGE="en")
def test_tiny_en_with_spanish_meetings_is_flagged() -> None:
    [warning] = _language_warnings()
    assert "hears English only" in warning and "MEETING_LANGUAGE is Spanish" in warning


@override_settings(WHISPER_MODEL="tiny.en", MEETING_LANGUAGE=-1, WHISPER_LANGUAGE="en")
def test_tiny_en_with_detection_is_fine() -> None:
    assert _language_warnings() == []


@override_settings(WHISPER_MODEL="base", MEETING_LANGUAGE=28, WHISPER_LANGUAGE="auto")
def test_a_multilingual_model_follows_any_language() -> None:
    assert _language_warnings() == []


def test_the_language_table_is_zooms_wire_enum() -> None:
    from rtms_ingest.protocol import TranscriptLanguage

    wire = {int(m): m.name for m in TranscriptLanguage if m >= 0}
    assert {z.id: z.constant for z in languages.ZOOM_LANGUAGES} == wire


def test_choices_parse_as_the_setting_and_the_api_take_them() -> None:
    assert [languages.parse_choice(v) for v in ("auto", "AUTO", -1, 9, "9", "spanish")] == [
        -1,
        -1,
        -1,
        9,
        9,
        28,
    ]
    assert [languages.parse_choice(v) for v in (37, "-2", "xx", True, None, 1.0)] == [None] * 6
