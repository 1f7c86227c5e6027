"""Which engine writes the notes: the LLM when NOTES_ENGINE asks for it, else the extract."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from assistant.models import MeetingNotes

EXTRACTIVE = MeetingNotes.Engine.EXTRACTIVE
LLM = MeetingNotes.Engine.LLM


def engine_name() -> str:
    """The engine NOTES_ENGINE asks for: "llm" or "extractive" ("auto": LLM if configured)."""
    mode = settings.NOTES_ENGINE
    if mode == "auto":
        return LLM if settings.LLM_BASE_URL else EXTRACTIVE
    if mode in (LLM, EXTRACTIVE):
        return str(mode)
    raise ImproperlyConfigured(f"NOTES_ENGINE must be auto, llm or extractive, not {mode!r}")
