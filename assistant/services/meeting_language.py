"""The language a meeting is spoken in: what Zoom is asked for, what Whisper is told, what the
page compares each segment's language with.

The choice is `Meeting.language` (a Zoom transcript language id, -1 to detect; blank: the
MEETING_LANGUAGE setting). A chosen language goes to Zoom as `src_language` with its language
detection off (`enable_lid` false), and to a multilingual Whisper model as its code; "detect"
asks Zoom to detect (-1, `enable_lid` true) and leaves Whisper to WHISPER_LANGUAGE. An
English-only model (`*.en`) hears English whatever is chosen: the page says so.
"""

from __future__ import annotations

from django.conf import settings
from django.db.models import Count

from assistant import languages
from assistant.models import Meeting, TranscriptSegment
from assistant.services import tracks


def effective_language(meeting: Meeting) -> int:
    """The meeting's own choice, else the MEETING_LANGUAGE setting (-1: detect)."""
    return settings.MEETING_LANGUAGE if meeting.language is None else meeting.language


def zoom_src_language(meeting: Meeting) -> int | None:
    """The language Zoom's transcript is asked for; None to let Zoom detect it."""
    chosen = effective_language(meeting)
    return None if chosen == languages.AUTO_ID else chosen


def whisper_language(meeting: Meeting) -> str | None:
    """The code a multilingual Whisper model is told; None to follow WHISPER_LANGUAGE."""
    return languages.whisper_code(effective_language(meeting))


def english_only_model() -> bool:
    """Whether WHISPER_MODEL hears English only (tiny.en and the other *.en models)."""
    return str(settings.WHISPER_MODEL).endswith(".en")


def set_language(meeting_id: int, language: int | None) -> Meeting:
    """Choose the meeting's language (None: the setting). Our recogniser's detected language is
    forgotten, so with detection it locks again on what is said next."""
    if language is not None and language != languages.AUTO_ID and language not in languages.BY_ID:
        raise ValueError(f"unknown Zoom transcript language {language}")
    Meeting.objects.filter(pk=meeting_id).update(language=language, asr_language="")
    return Meeting.objects.get(pk=meeting_id)


def asr_caveat(meeting: Meeting) -> str:
    """What the page says when our recogniser cannot hear the chosen language ("" if it can)."""
    chosen = effective_language(meeting)
    if not tracks.wants_asr(meeting) or not english_only_model():
        return ""
    if chosen in (languages.AUTO_ID, languages.ENGLISH_ID):
        return ""
    name = languages.choice_name(chosen)
    return (
        f"Our speech recognition ({settings.WHISPER_MODEL}) understands English only: "
        f"its captions of {name} speech are not a transcript. Zoom's captions follow {name}; "
        "a multilingual model (WHISPER_MODEL=base) would too."
    )


def reference_code(meeting: Meeting) -> str:
    """The language the page leaves unlabelled: the chosen one, else (detecting) the one most
    of the meeting's segments have so far ("" before any says)."""
    chosen = languages.BY_ID.get(effective_language(meeting))
    if chosen is not None:
        return chosen.code
    commonest = (
        TranscriptSegment.objects.filter(meeting_id=meeting.pk, final=True)
        .exclude(language="")
        .values("language")
        .annotate(count=Count("id"))
        .order_by("-count", "language")
        .first()
    )
    return str(commonest["language"]) if commonest else ""


def label_for(code: str, reference: str) -> str:
    """A segment's language label: its language's name where it differs from `reference`."""
    if not code or (reference and languages.same_language(code, reference)):
        return ""
    return languages.code_name(code)
