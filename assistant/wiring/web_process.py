"""Tuning of the web process (daphne), applied once when `assistant.asgi` is imported."""

from __future__ import annotations

import asyncio
import gc
import inspect
import logging
from functools import partial
from typing import Any

__all__ = ["freeze_startup_heap", "reap_finished_requests_at_once", "skip_twisted_form_parsing"]

log = logging.getLogger(__name__)


def freeze_startup_heap() -> None:
    """Move every object alive now out of the garbage collector's reach (gc.freeze).

    What is alive once the application is built (Django, Channels, Twisted, the app: about a
    quarter of a million objects) lives as long as the process. Unfrozen, every full collection
    walks all of it: about 100 ms, every half second under load, each one stalling every
    request in flight (the webhook's p99 at concurrency 32). Frozen, a full collection walks
    only what was made since. (A frozen object dropped later is never freed: nothing built at
    startup is meant to be.)
    """
    gc.collect()
    gc.freeze()


def skip_twisted_form_parsing() -> None:
    """Make daphne build its Twisted requests with `parsePOSTFormSubmission=False`.

    For every POST, Twisted parses the Content-Type with the email package to fill
    `request.args`, which daphne never reads (it hands the raw body to the application and
    Django parses forms itself). That parse was a quarter of the web process's CPU per webhook,
    and it makes two classes per request (email.headerregistry) that only a full collection
    frees. A no-op if daphne is absent or Twisted's Request lacks the parameter.
    """
    try:
        from daphne import http_protocol
        from twisted.web.http import Request
    except ImportError:
        return
    if "parsePOSTFormSubmission" not in inspect.signature(Request.__init__).parameters:
        log.warning("this Twisted cannot skip form parsing: each POST's Content-Type is parsed")
        return
    if getattr(http_protocol.WebRequest, "skips_form_parsing", False):
        return
    daphne_request: Any = http_protocol.WebRequest

    class WebRequest(daphne_request):
        """daphne's request, without Twisted's parse of form bodies."""

        skips_form_parsing = True

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs.setdefault("parsePOSTFormSubmission", False)
            super().__init__(*args, **kwargs)

    # daphne's HTTPFactory.buildProtocol reads this module attribute for each connection.
    http_protocol.WebRequest = WebRequest


def reap_finished_requests_at_once() -> None:
    """Make daphne forget an HTTP request as soon as it is answered and its application ended.

    daphne keeps every request (its Twisted request, scope, queue, timers: about 35 objects) in
    `Server.connections` until a sweep once a second. At 5,000 requests a second that is 5,000
    requests freed in one go (a 25-30 ms stall each second) and ~100,000 live objects that each
    full collection must walk (~40 ms). Reaped here is only what that sweep would delete: a
    request marked disconnected (answered or closed) whose application ended without an error;
    an error or a request not yet answered is still left to the sweep, which reports it.
    """
    try:
        from daphne.server import Server
    except ImportError:
        return
    if getattr(Server.create_application, "reaps_at_once", False):
        return
    create_application = Server.create_application

    def create_and_watch(self: Any, protocol: Any, scope: dict[str, Any]) -> Any:
        queue = create_application(self, protocol, scope)
        instance = self.connections.get(protocol, {}).get("application_instance")
        if instance is not None and scope.get("type") == "http":
            instance.add_done_callback(partial(_reap, self.connections, protocol))
        return queue

    create_and_watch.reaps_at_once = True  # type: ignore[attr-defined]
    Server.create_application = create_and_watch


def _reap(
    connections: dict[Any, dict[str, Any]], protocol: Any, instance: asyncio.Future[Any]
) -> None:
    details = connections.get(protocol)
    if details is None or details.get("application_instance") is not instance:
        return
    if "disconnected" not in details or instance.cancelled() or instance.exception() is not None:
        return
    del connections[protocol]
