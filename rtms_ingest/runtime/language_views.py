"""PUT /api/meetings/<id>/language/: the host (or staff) chooses the language a meeting is
spoken in: {"language": "auto" | <Zoom transcript language id, or its name> | "" (the
MEETING_LANGUAGE setting)}.

Same checks as the host's other choices (assistant/views/hosts_choice.py). A live stream is
told to reconfigure: the ingest re-handshakes only the transcript's media socket with the new
`src_language` (what Zoom transcribes meanwhile is lost, and logged as a gap); Whisper takes
the new language from the next utterance on.
"""

from __future__ import annotations

from asgiref.sync import sync_to_async
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache

from assistant import languages
from assistant.models import Meeting
from assistant.services import meeting_language
from assistant.views.api import error
from assistant.views.hosts_choice import NOT_GIVEN, chosen_value, hosted_meeting
from rtms_ingest.cluster.commands import StreamCommand
from rtms_ingest.runtime.handover import hand_over

_UNSET = object()


@never_cache
async def meeting_language_choice(request: HttpRequest, meeting_id: int) -> HttpResponse:
    """Set the meeting's language; a live stream asks Zoom for it at once."""
    meeting = await sync_to_async(hosted_meeting)(request, meeting_id, "language")
    if isinstance(meeting, HttpResponse):
        return meeting
    choice = _choice(request)
    if choice is _UNSET:
        return error(
            'Send {"language": "auto" | a Zoom transcript language id (0-36) or name '
            '(e.g. "SPANISH") | "" (the server\'s default)}.',
            400,
        )
    assert choice is None or isinstance(choice, int)
    meeting = await sync_to_async(meeting_language.set_language)(meeting.pk, choice)
    if meeting.is_live:
        await hand_over(_reconfigure(meeting))
    return JsonResponse(await sync_to_async(_answer)(meeting))


def _choice(request: HttpRequest) -> int | object | None:
    """The body's choice: a Zoom id (-1: detect), None for the setting, else _UNSET."""
    value = chosen_value(request, "language")
    if value is NOT_GIVEN:
        return _UNSET
    if value is None or value == "":
        return None
    parsed = languages.parse_choice(value)
    return _UNSET if parsed is None else parsed


def _answer(meeting: Meeting) -> dict[str, object]:
    effective = meeting_language.effective_language(meeting)
    name = languages.choice_name(effective)
    caveat = meeting_language.asr_caveat(meeting)
    message = f"Language: {name}."
    if meeting.is_live:
        message += " Zoom's captions switch within a few seconds; ours from the next sentence."
    return {
        "language": meeting.language,
        "effective": effective,
        "effective_name": name,
        "asr_caveat": caveat,
        "message": f"{message} {caveat}".strip(),
    }


def _reconfigure(meeting: Meeting) -> StreamCommand:
    return StreamCommand("reconfigure", meeting.product, meeting.zoom_id, meeting.rtms_stream_id)
