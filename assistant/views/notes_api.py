"""The notes API: read a meeting's notes, edit them, ask the meeting a question.

Same session and access rule as the rest of the API (assistant/views/api.py): a meeting a user
may not see answers 404. Edits (add, change or remove an action item; reword or remove a
decision) are for the meeting's host (its owner) or staff: anyone else who may see the meeting
gets 403. CSRF is checked by Django's middleware on PATCH, POST and DELETE, as on every state
change.

Asking is async: its database work (the checks, the rate limit, the retrieval) runs in one hop
to the request's thread, whose connection is then given back, and the LLM's calls (up to
LLM_MAX_ATTEMPTS of LLM_TIMEOUT_S each) run on a small pool of their own (ASK_LLM_THREADS per
process) and are awaited: meanwhile the request holds neither a thread nor a connection. Each
user may ask ASK_RATE_LIMIT times; more get 429 with Retry-After.
"""

from __future__ import annotations

import asyncio
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import close_old_connections, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache

from assistant.models import ActionItem, Decision, Meeting
from assistant.services import access, rate_limits
from assistant.services.notes import ask, editing, shapes
from assistant.views.api import error

MAX_BODY_BYTES = 16 * 1024


def signed_in(request: HttpRequest, *methods: str, panel: bool = False) -> HttpResponse | None:
    """An error response unless the request uses one of `methods` and its user is signed in.

    With `panel`, a Zoom App panel session counts as signed in (reading only).
    """
    if request.method not in methods:
        response = error(f"Only {' or '.join(methods)} is allowed.", 405)
        response["Allow"] = ", ".join(methods)
        return response
    viewer = access.Viewer.from_request(request)
    if not (viewer.is_known if panel else request.user.is_authenticated):
        return error("Authentication required: sign in first.", 401)
    return None


def json_body(request: HttpRequest) -> dict[str, Any] | None:
    """The request's JSON object body, or None when it is not one."""
    if len(request.body) > MAX_BODY_BYTES:
        return None
    try:
        body = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        return None
    return body if isinstance(body, dict) else None


@never_cache
def notes_detail(request: HttpRequest, meeting_id: int) -> HttpResponse:
    """GET /api/meetings/<id>/notes/: the meeting's current notes (empty before the first)."""
    refused = signed_in(request, "GET", panel=True)
    if refused is not None:
        return refused
    if not access.can_view_meeting(access.Viewer.from_request(request), meeting_id):
        return error("No such meeting.", 404)
    return JsonResponse(shapes.api_notes(meeting_id))


def _may_edit(request: HttpRequest, meeting: Meeting, what: str) -> HttpResponse | None:
    """404 unless the user may see the meeting, 403 unless they may edit its notes."""
    if not access.can_view_meeting(access.Viewer.from_request(request), meeting.pk):
        return error(f"No such {what}.", 404)
    if not access.is_host_of(request.user, meeting):
        return error(f"Only the meeting's host may edit its {what}s.", 403)
    return None


@never_cache
def add_action_item(request: HttpRequest, meeting_id: int) -> HttpResponse:
    """POST /api/meetings/<id>/action-items/ {text, owner?, due?}: the host adds an item."""
    refused = signed_in(request, "POST")
    if refused is not None:
        return refused
    meeting = Meeting.objects.filter(pk=meeting_id).first()
    if meeting is None:
        return error("No such meeting.", 404)
    refused = _may_edit(request, meeting, "action item")
    if refused is not None:
        return refused
    body = json_body(request)
    if body is None:
        return error("The body must be a JSON object.", 400)
    try:
        fields = editing.parse_new_item(body)
    except ValueError as exc:
        return error(str(exc), 400)
    row = editing.add_action_item(meeting.pk, fields, user_id=request.user.pk)
    return JsonResponse(shapes.api_action(row), status=201)


@never_cache
def action_item(request: HttpRequest, item_id: int) -> HttpResponse:
    """PATCH /api/action-items/<id>/ {text?, owner?, due?, done?}: edit an item; DELETE: remove."""
    refused = signed_in(request, "PATCH", "DELETE")
    if refused is not None:
        return refused
    item = ActionItem.objects.filter(pk=item_id).select_related("meeting").first()
    if item is None:
        return error("No such action item.", 404)
    refused = _may_edit(request, item.meeting, "action item")
    if refused is not None:
        return refused
    if request.method == "DELETE":
        editing.remove_action_item(item.pk)
        return HttpResponse(status=204)
    body = json_body(request)
    if body is None:
        return error("The body must be a JSON object.", 400)
    try:
        changes = editing.parse_changes(body)
    except ValueError as exc:
        return error(str(exc), 400)
    row = editing.edit_action_item(item.pk, changes, user_id=request.user.pk)
    return JsonResponse(shapes.api_action(row))


@never_cache
def decision(request: HttpRequest, decision_id: int) -> HttpResponse:
    """PATCH /api/decisions/<id>/ {text}: the host rewords a decision; DELETE removes it."""
    refused = signed_in(request, "PATCH", "DELETE")
    if refused is not None:
        return refused
    row = Decision.objects.filter(pk=decision_id).select_related("meeting").first()
    if row is None:
        return error("No such decision.", 404)
    refused = _may_edit(request, row.meeting, "decision")
    if refused is not None:
        return refused
    if request.method == "DELETE":
        editing.remove_decision(row.pk)
        return HttpResponse(status=204)
    body = json_body(request)
    text = body.get("text") if body is not None and set(body) == {"text"} else None
    if not isinstance(text, str) or not 1 <= len(text.strip()) <= 500:
        return error('Send {"text": "..."} (1 to 500 characters).', 400)
    row = editing.edit_decision(row.pk, text.strip(), user_id=request.user.pk)
    return JsonResponse(dict(shapes.decision_json(row)))


@never_cache
async def ask_meeting(request: HttpRequest, meeting_id: int) -> HttpResponse:
    """POST /api/meetings/<id>/ask/ {question}: an answer from the transcript, with citations."""
    found = await sync_to_async(_checked_and_retrieved)(request, meeting_id)
    if isinstance(found, HttpResponse):
        return found
    if isinstance(found, ask.Retrieved):
        loop = asyncio.get_running_loop()
        found = await loop.run_in_executor(llm_pool(), ask.answer_with_llm, found)
    return JsonResponse(answer_json(found))


def answer_json(answer: ask.Answer) -> dict[str, Any]:
    """An answer with its citations, as the ask, catch-up and mentions endpoints return it."""
    return {
        "answer": answer.answer,
        "citations": [
            {
                "segment_id": c.segment_id,
                "speaker": c.speaker,
                "start_ms": c.start_ms,
                "text": c.text,
            }
            for c in answer.citations
        ],
    }


def _checked_and_retrieved(
    request: HttpRequest, meeting_id: int
) -> HttpResponse | ask.Answer | ask.Retrieved:
    """Everything an ask needs the database for; the connection is given back after."""
    try:
        return _check_and_retrieve(request, meeting_id)
    finally:
        # What the end of a request would do (DATABASE_CONN_MAX_AGE), now: the LLM may take
        # minutes. Never inside a transaction (a test's): closing would break it.
        if not connection.in_atomic_block:
            close_old_connections()


def _check_and_retrieve(
    request: HttpRequest, meeting_id: int
) -> HttpResponse | ask.Answer | ask.Retrieved:
    refused = signed_in(request, "POST", panel=True)
    if refused is not None:
        return refused
    viewer = access.Viewer.from_request(request)
    if not access.can_view_meeting(viewer, meeting_id):
        return error("No such meeting.", 404)
    body = json_body(request)
    question = body.get("question") if body else None
    if not isinstance(question, str) or not question.strip():
        return error("question must be a non-empty string.", 400)
    if len(question) > ask.MAX_QUESTION_CHARS:
        return error(f"question must be at most {ask.MAX_QUESTION_CHARS} characters.", 400)
    too_many = take_ask_budget(request, viewer)
    return too_many or ask.retrieve_for(meeting_id, question)


def take_ask_budget(request: HttpRequest, viewer: access.Viewer) -> HttpResponse | None:
    """Count a question against ASK_RATE_LIMIT: the signed-in user's, else the panel user's.

    429 with Retry-After when the budget is spent, else None.
    """
    if request.user.is_authenticated or viewer.panel is None:
        key = str(request.user.pk)
    else:
        key = f"panel:{viewer.panel.zoom_user_id}"
    wait_s = rate_limits.take("ask", key, settings.ASK_RATE_LIMIT)
    if wait_s is None:
        return None
    response = error(f"Too many questions: ask again in {wait_s} s.", 429)
    response["Retry-After"] = str(wait_s)
    return response


_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def llm_pool() -> ThreadPoolExecutor:
    """The threads the asks' LLM calls run on (ASK_LLM_THREADS); asks beyond them queue."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(settings.ASK_LLM_THREADS, thread_name_prefix="ask-llm")
        return _pool
