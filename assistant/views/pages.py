"""The host dashboard: meetings list, meeting page and the health check."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_safe

from assistant import languages
from assistant.models import Meeting
from assistant.services import access, meeting_filters, meeting_language, transcripts_query
from assistant.services.deliveries import status as delivery_status
from assistant.services.meetings import failure_detail
from assistant.services.notes import meeting_template
from assistant.services.notes import shapes as notes_shapes
from assistant.views import charts, list_filters, presenters, rtms_controls
from assistant.views.finished_panes import finished_panes

log = logging.getLogger(__name__)

MEETINGS_PER_PAGE = 50


@login_required
@require_GET
def meeting_list(request: HttpRequest) -> HttpResponse:
    """The meetings the user may see, live ones first, narrowed by the filters in the query."""
    form = list_filters.FilterForm(request.GET or None)
    filters = form.filters()
    visible = access.visible_meetings(access.Viewer.from_request(request))
    meetings = meeting_filters.filter_meetings(visible, filters)
    page = Paginator(transcripts_query.dashboard_order(meetings), MEETINGS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    rows = list(page.object_list)
    context = {
        "page": page,
        "form": form,
        "filtered": filters.active,
        "page_query": list_filters.page_query(request.GET),
        "hosts": list_filters.host_choices(visible) if request.user.is_staff else [],
        "cards": presenters.meeting_cards(
            rows, transcripts_query.segment_counts([m.pk for m in rows])
        ),
        "can_play_sample": settings.DEMO_SIMULATOR and request.user.is_staff,
        "zoom_grant": rtms_controls.grant_state(request.user),
    }
    return render(request, "meetings/list.html", context)


@never_cache
@login_required
@require_GET
def meeting_detail(request: HttpRequest, meeting_id: int) -> HttpResponse:
    """One meeting: live over the socket, or the stored transcript once it has finished."""
    # A meeting the user may not see is indistinguishable from one that does not exist.
    meeting = get_object_or_404(
        access.visible_meetings(access.Viewer.from_request(request)), pk=meeting_id
    )
    context: dict[str, Any] = {
        "meeting": meeting,
        "badge": presenters.badge_class(meeting.state),
        "duration": presenters.duration_label(meeting),
        "live": meeting.is_live,
        "stream_text": presenters.stream_text(meeting.state),
        "failure": failure_detail(meeting),
        "stop_text": presenters.stop_text(meeting),
    }
    if meeting.is_live:
        context["state_names"] = presenters.state_names()
    else:
        context.update(_finished_meeting(meeting, request.GET.get("part"), request.GET.get("at")))
    sources = set(transcripts_query.sources(meeting.pk))
    context["has_transcript"] = bool(sources)
    context["tracks"] = presenters.caption_tracks(meeting, sources)
    # The count beside the captions counts what the pane shows: the shown track's lines.
    context["caption_count"] = presenters.caption_count(
        context.get("captions", ()), context["tracks"]
    )
    context["default_transcription"] = presenters.transcription_default_label(
        settings.TRANSCRIPTION
    )
    context["default_notes_track"] = presenters.TRACK_LABELS[settings.NOTES_TRACK]
    context["default_record_audio"] = presenters.recording_default_label(settings.RECORD_AUDIO)
    context["default_slides"] = "Default: keep slides" if settings.SLIDES else "Default: no slides"
    context["notes_data"] = notes_shapes.page_notes(meeting.pk)
    context["show_notes"] = meeting.is_live or bool(context["notes_data"] or sources)
    context["can_edit_notes"] = access.is_host_of(request.user, meeting)
    if context["can_edit_notes"]:
        # The host's choice of what the notes contain, in the Notes pane.
        context["notes_templates"] = meeting_template.available()
        context["automatic_template"] = meeting_template.by_topic(meeting.topic)
    # Which track leads is a choice only where there are (or will be) two.
    context["can_choose_track"] = context["can_edit_notes"] and context["tracks"].switchable
    context["rtms"] = rtms_controls.controls_context(request, meeting)
    context["rtms_actions"] = rtms_controls.ACTION_LABELS
    context["can_delete"] = context["can_edit_notes"] and not meeting.is_live
    context["asr_caveat"] = meeting_language.asr_caveat(meeting)
    if meeting.is_live:
        context.update(_language_context(meeting, host=context["can_edit_notes"]))
    # Where the notes went: the host's (and staff's) business only.
    context["show_deliveries"] = context["can_edit_notes"] and not meeting.is_live
    if context["show_deliveries"]:
        context["deliveries"] = delivery_status.meeting_deliveries(meeting)
    return render(request, "meetings/detail.html", context)


def _language_context(meeting: Meeting, *, host: bool) -> dict[str, Any]:
    """The live page's language: the host's select, what segments are compared with
    (labelled when in another language) and the names of languages."""
    return {
        "language_choice": presenters.language_choice(meeting) if host else None,
        "reference_language": meeting_language.reference_code(meeting),
        "language_names": languages.names(),
    }


def _finished_meeting(meeting: Meeting, part: str | None, at: str | None) -> dict[str, Any]:
    panes = finished_panes(meeting, part, at)
    return {**panes, "charts": charts.meeting_charts(meeting.pk, panes["clock_origin"])}


@require_safe
def healthz(request: HttpRequest) -> HttpResponse:
    """Liveness for container healthchecks: answers ok when the database answers."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        log.warning("healthz: database unavailable", exc_info=True)
        return HttpResponse("database unavailable", status=503, content_type="text/plain")
    return HttpResponse("ok", content_type="text/plain")
