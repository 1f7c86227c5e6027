"""The demo's sample meeting starts when a signed-in user first opens a page.

Played at startup, it was over before a newcomer had read the console and signed in. run_demo
arms the playback (`demo.play_on_first_page`); this middleware fires it on the first page a
signed-in user opens, and says so on that page. Anywhere else it only reads one flag.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.contrib import messages
from django.http import HttpRequest, HttpResponse

from rtms_ingest.runtime import demo

STARTED_MESSAGE = (
    "The sample meeting is starting: reload in a few seconds and it is at the top of this list."
)


class PlayOnFirstPageMiddleware:
    """After the auth and message middlewares: starts the awaited sample meeting, once."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        self._async = iscoroutinefunction(get_response)
        if self._async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        if self._async:
            return self._acall(request)
        if _is_page_request(request) and request.user.is_authenticated:
            _start(request)
        return self.get_response(request)

    async def _acall(self, request: HttpRequest) -> HttpResponse:
        if _is_page_request(request) and (await request.auser()).is_authenticated:
            _start(request)
        response: Awaitable[HttpResponse] = self.get_response(request)
        return await response


def _is_page_request(request: HttpRequest) -> bool:
    """A page opened while the sample meeting waits (the flag first: the common case is off)."""
    return demo.awaiting_first_page() and request.method == "GET"


def _start(request: HttpRequest) -> None:
    if demo.first_page_opened():
        messages.info(request, STARTED_MESSAGE, fail_silently=True)
