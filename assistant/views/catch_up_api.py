"""In-meeting questions for a viewer: POST /api/meetings/<id>/catch-up/ and .../mentions/.

Anyone who may see the meeting asks them: a signed-in user or a Zoom App panel session (the
panel is where a participant who joined late sits). Both share the ask's budget
(ASK_RATE_LIMIT per signed-in user or panel user); CSRF is checked as on every POST. The
catch-up's LLM call runs on the ask's threads, off the event loop and with the database
connection given back, as an ask's does.

    catch-up  {"minutes": 5}                     the last five minutes
              {"name": "Zoë Müller"}             since that participant (last) joined
              {"seen_from_ms": 61000}            else since the page first saw the meeting
    mentions  {"name": "Zoë Müller"}             where others said "Zoë" or "Zoë Müller"
"""

from __future__ import annotations

import asyncio
from typing import Any

from asgiref.sync import sync_to_async
from django.db import close_old_connections, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache

from assistant.services import access
from assistant.services.notes import catch_up
from assistant.services.notes.ask import Answer
from assistant.views.api import error
from assistant.views.notes_api import (
    answer_json,
    json_body,
    llm_pool,
    signed_in,
    take_ask_budget,
)


@never_cache
async def catch_up_meeting(request: HttpRequest, meeting_id: int) -> HttpResponse:
    """What was decided, given and left open in a window of the meeting, with citations."""
    found = await sync_to_async(_checked)(request, meeting_id, _catch_up)
    if isinstance(found, catch_up.ForLlm):
        loop = asyncio.get_running_loop()
        found = await loop.run_in_executor(llm_pool(), catch_up.answer_with_llm, found)
    if isinstance(found, HttpResponse):
        return found
    return JsonResponse(answer_json(found))


@never_cache
async def meeting_mentions(request: HttpRequest, meeting_id: int) -> HttpResponse:
    """Where others said the viewer's name, and the viewer's open action items."""
    found = await sync_to_async(_checked)(request, meeting_id, _mentions)
    if isinstance(found, HttpResponse):
        return found
    assert isinstance(found, Answer)
    return JsonResponse(answer_json(found))


def _checked(
    request: HttpRequest, meeting_id: int, answer: Any
) -> HttpResponse | Answer | catch_up.ForLlm:
    """Access, the budget and the body checked, then the database half of the answer."""
    try:
        refused = signed_in(request, "POST", panel=True)
        if refused is not None:
            return refused
        viewer = access.Viewer.from_request(request)
        if not access.can_view_meeting(viewer, meeting_id):
            return error("No such meeting.", 404)
        body = json_body(request)
        if body is None:
            return error("Send a JSON object.", 400)
        too_many = take_ask_budget(request, viewer)
        if too_many is not None:
            return too_many
        result: HttpResponse | Answer | catch_up.ForLlm = answer(meeting_id, body)
        return result
    finally:
        # The LLM may take minutes after this: the connection goes back now (not in a test's
        # transaction, which closing would break).
        if not connection.in_atomic_block:
            close_old_connections()


def _name(body: dict[str, Any]) -> str | None:
    """The name in the body: text of 1 to MAX_NAME_CHARS characters, or None."""
    name = body.get("name", "")
    if not isinstance(name, str) or len(name) > catch_up.MAX_NAME_CHARS:
        return None
    return " ".join(name.split())


def _catch_up(meeting_id: int, body: dict[str, Any]) -> HttpResponse | Answer | catch_up.ForLlm:
    minutes, seen = body.get("minutes"), body.get("seen_from_ms")
    name = _name(body)
    if minutes is not None and (type(minutes) is not int or minutes < 1):
        return error("minutes must be a whole number of minutes, 1 or more.", 400)
    if seen is not None and (type(seen) is not int or seen < 0):
        return error("seen_from_ms must be a time on the meeting's clock (ms, 0 or more).", 400)
    if name is None:
        return error(f"name must be text of at most {catch_up.MAX_NAME_CHARS} characters.", 400)
    since = catch_up.window_start(meeting_id, minutes=minutes, name=name, seen_from_ms=seen)
    return catch_up.catch_up(meeting_id, since)


def _mentions(meeting_id: int, body: dict[str, Any]) -> HttpResponse | Answer:
    name = _name(body)
    if not name:
        return error('Send the name to look for: {"name": "..."}.', 400)
    return catch_up.mentions(meeting_id, name)
