"""PUT /api/meetings/<id>/transcription/: a host or staff chooses whose transcript a meeting gets
(and whether its audio is recorded for a later re-transcription).

Before the meeting or during it: a live stream is told to reconfigure (the ingest then asks
Zoom for the media the new choice needs, which may take a reconnect of a second or so).
"""

from __future__ import annotations

import json

from asgiref.sync import sync_to_async
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_http_methods

from assistant import recordings
from assistant.models import Meeting, Transcription
from assistant.services import access, speech
from rtms_ingest.cluster.commands import StreamCommand
from rtms_ingest.runtime.handover import hand_over


def _error(message: str, status: int) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


@require_http_methods(["PUT"])
async def meeting_transcription(request: HttpRequest, meeting_id: int) -> HttpResponse:
    """Set {"transcription": "native" | "asr" | "both" | ""} ("" = the server's setting) and/or
    {"record_audio": true | false | null} (null = the RECORD_AUDIO setting)."""
    user = await request.auser()
    if not user.is_authenticated:
        return _error("Authentication required: sign in first.", 401)
    meeting = await access.visible_meetings(user).filter(pk=meeting_id).afirst()
    if meeting is None:
        return _error("No such meeting.", 404)
    try:
        choice = json.loads(request.body or b"{}")
    except ValueError:
        choice = None
    if not isinstance(choice, dict) or not {"transcription", "record_audio"} & choice.keys():
        return _error(
            'Send {"transcription": "native" | "asr" | "both" | ""} '
            'and/or {"record_audio": true | false | null}.',
            400,
        )
    mode = choice.get("transcription", meeting.transcription)
    if mode not in ("", *Transcription.values):
        return _error(f"transcription must be one of: {', '.join(Transcription.values)}.", 400)
    record = choice.get("record_audio", meeting.record_audio)
    if record not in (True, False, None):
        return _error("record_audio must be true, false or null.", 400)
    meeting = await sync_to_async(speech.set_transcription)(meeting.pk, mode, record_audio=record)
    if meeting.is_live:
        await hand_over(_reconfigure(meeting))
    return JsonResponse(
        {
            "transcription": meeting.transcription,
            "effective": speech.transcription_mode(meeting),
            "record_audio": meeting.record_audio,
            "recording": recordings.wants_recording(meeting),
        }
    )


def _reconfigure(meeting: Meeting) -> StreamCommand:
    return StreamCommand("reconfigure", meeting.product, meeting.zoom_id, meeting.rtms_stream_id)
