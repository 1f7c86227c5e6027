"""Zoom's transcript languages: id <-> name, and the codes we store and give Whisper.

Zoom's ids are `TRANSCRIPT_LANGUAGE` of its `rtms` SDK (src/rtms.h; the wire enum is
rtms_ingest.protocol.TranscriptLanguage): -1 lets Zoom detect the language, 0-36 name one. A
segment keeps a language as a BCP 47 code (Zoom's, mapped here; Whisper's ISO 639-1 as is), so
both tracks compare. No Django here: settings read it too.
"""

from __future__ import annotations

from dataclasses import dataclass

AUTO = "auto"
AUTO_ID = -1  # TRANSCRIPT_LANGUAGE.NONE: Zoom detects the language (enable_lid true)


@dataclass(frozen=True)
class ZoomLanguage:
    """One of Zoom's transcript languages."""

    id: int  # TRANSCRIPT_LANGUAGE
    constant: str  # its name in Zoom's SDK
    name: str  # in words, for people
    code: str  # BCP 47, what a native segment stores
    whisper: str  # the code Whisper's multilingual models take for it


ZOOM_LANGUAGES: tuple[ZoomLanguage, ...] = (
    ZoomLanguage(0, "ARABIC", "Arabic", "ar", "ar"),
    ZoomLanguage(1, "BENGALI", "Bengali", "bn", "bn"),
    # Whisper before large-v3 has no Cantonese of its own: Chinese is its nearest.
    ZoomLanguage(2, "CANTONESE", "Cantonese", "yue", "zh"),
    ZoomLanguage(3, "CATALAN", "Catalan", "ca", "ca"),
    ZoomLanguage(4, "CHINESE_SIMPLIFIED", "Chinese (Simplified)", "zh-Hans", "zh"),
    ZoomLanguage(5, "CHINESE_TRADITIONAL", "Chinese (Traditional)", "zh-Hant", "zh"),
    ZoomLanguage(6, "CZECH", "Czech", "cs", "cs"),
    ZoomLanguage(7, "DANISH", "Danish", "da", "da"),
    ZoomLanguage(8, "DUTCH", "Dutch", "nl", "nl"),
    ZoomLanguage(9, "ENGLISH", "English", "en", "en"),
    ZoomLanguage(10, "ESTONIAN", "Estonian", "et", "et"),
    ZoomLanguage(11, "FINNISH", "Finnish", "fi", "fi"),
    ZoomLanguage(12, "FRENCH_CANADA", "French (Canada)", "fr-CA", "fr"),
    ZoomLanguage(13, "FRENCH_FRANCE", "French (France)", "fr-FR", "fr"),
    ZoomLanguage(14, "GERMAN", "German", "de", "de"),
    ZoomLanguage(15, "HEBREW", "Hebrew", "he", "he"),
    ZoomLanguage(16, "HINDI", "Hindi", "hi", "hi"),
    ZoomLanguage(17, "HUNGARIAN", "Hungarian", "hu", "hu"),
    ZoomLanguage(18, "INDONESIAN", "Indonesian", "id", "id"),
    ZoomLanguage(19, "ITALIAN", "Italian", "it", "it"),
    ZoomLanguage(20, "JAPANESE", "Japanese", "ja", "ja"),
    ZoomLanguage(21, "KOREAN", "Korean", "ko", "ko"),
    ZoomLanguage(22, "MALAY", "Malay", "ms", "ms"),
    ZoomLanguage(23, "PERSIAN", "Persian", "fa", "fa"),
    ZoomLanguage(24, "POLISH", "Polish", "pl", "pl"),
    ZoomLanguage(25, "PORTUGUESE", "Portuguese", "pt", "pt"),
    ZoomLanguage(26, "ROMANIAN", "Romanian", "ro", "ro"),
    ZoomLanguage(27, "RUSSIAN", "Russian", "ru", "ru"),
    ZoomLanguage(28, "SPANISH", "Spanish", "es", "es"),
    ZoomLanguage(29, "SWEDISH", "Swedish", "sv", "sv"),
    ZoomLanguage(30, "TAGALOG", "Tagalog", "tl", "tl"),
    ZoomLanguage(31, "TAMIL", "Tamil", "ta", "ta"),
    ZoomLanguage(32, "TELUGU", "Telugu", "te", "te"),
    ZoomLanguage(33, "THAI", "Thai", "th", "th"),
    ZoomLanguage(34, "TURKISH", "Turkish", "tr", "tr"),
    ZoomLanguage(35, "UKRAINIAN", "Ukrainian", "uk", "uk"),
    ZoomLanguage(36, "VIETNAMESE", "Vietnamese", "vi", "vi"),
)
BY_ID: dict[int, ZoomLanguage] = {language.id: language for language in ZOOM_LANGUAGES}
_BY_CONSTANT = {language.constant: language for language in ZOOM_LANGUAGES}
# A code's name; Whisper's codes for Zoom's languages name the language without a region.
_NAMES = {language.code.lower(): language.name for language in ZOOM_LANGUAGES} | {
    "zh": "Chinese",
    "fr": "French",
}
ENGLISH_ID = 9


def parse_choice(value: object) -> int | None:
    """A language choice as a Zoom id (-1 for auto), from "auto", an id or Zoom's constant
    name (int or text, any case); None when it is none of these."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value == AUTO_ID or value in BY_ID else None
    if not isinstance(value, str):
        return None
    text = value.strip()
    if text.lower() == AUTO:
        return AUTO_ID
    if text.lstrip("-").isdigit():
        return parse_choice(int(text))
    found = _BY_CONSTANT.get(text.upper())
    return None if found is None else found.id


def choice_name(language_id: int) -> str:
    """A choice in words: "Detect automatically" for -1, else the language's name."""
    if language_id == AUTO_ID:
        return "Detect automatically"
    found = BY_ID.get(language_id)
    return found.name if found else f"Zoom language {language_id}"


def reported_code(language_id: int | None) -> str:
    """What a native segment stores for the `language` Zoom's frame reported.

    "" when it said none (or -1); an id this table does not know is kept as its number.
    """
    if language_id is None or language_id == AUTO_ID:
        return ""
    found = BY_ID.get(language_id)
    return found.code if found else str(language_id)


def whisper_code(language_id: int) -> str | None:
    """The code Whisper takes for a chosen language; None for auto (or an unknown id)."""
    found = BY_ID.get(language_id)
    return found.whisper if found else None


def code_name(code: str) -> str:
    """A stored code in words (the code itself when unknown)."""
    return _NAMES.get(code.lower(), code)


def names() -> dict[str, str]:
    """Every code this module names, lower-cased, with its name (for the live page)."""
    return dict(_NAMES)


def same_language(first: str, second: str) -> bool:
    """Whether two stored codes name one language (regions and scripts aside: "fr-CA" = "fr")."""
    return primary_subtag(first) == primary_subtag(second)


def primary_subtag(code: str) -> str:
    """The language part of a code ("fr" of "fr-CA"), lower-cased."""
    return code.split("-", 1)[0].strip().lower()
