"""The one way a message reaches the channel layer: after commit, on the right event loop.

A service that changes what viewers see registers a `Broadcast` (a group and its message) with
`after_commit`; nothing is sent for a transaction that rolls back. Once committed, it goes out
by one of two paths, and only these two call the channel layer:

- `send` (async), on the caller's loop. The ingest runs each service call on a DB thread inside
  `collecting(...)`, which keeps what the call published; the call returns it with its result
  and the ingest awaits `send` on its own loop (rtms_ingest/storage/database.py). No thread waits
  on a Redis round trip, and a stream's pushes go out in the order of its writes.
- `send_from_thread` (sync), anywhere else: jobs, sync views, Celery workers, management
  commands. It hands the broadcasts to a loop and waits for them to be sent. Which loop: the
  one the viewers' sockets run on (`use_viewers_loop`, called by the consumer and the embedded
  ingest), while it runs. The embedded shape's `InMemoryChannelLayer` holds asyncio queues of
  that loop, which must not be touched from another thread. Without it (a Celery worker, no
  viewer in this process yet) a loop of this process's own, on a thread of its own, started on
  first use; with the Redis layer any loop will do, and this one keeps its connections.

Sending is best effort: a failure is logged and the commit stands. Live events stay in the
outbox, where viewers catch up on reconnect; access pushes are backed by each socket's own
re-check.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from typing import Any

from channels.layers import get_channel_layer
from django.db import transaction
from redis.exceptions import ConnectionError as RedisConnectionError

log = logging.getLogger(__name__)

# How long a thread waits for its broadcasts to be sent before it goes on without knowing.
SEND_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class Broadcast:
    """One message for a Channels group; `about` names it in log lines."""

    group: str
    message: dict[str, Any]
    about: str


class Collected:
    """What the service calls of one unit of work published, for its caller to send.

    Once taken, later broadcasts (a call still running after its caller gave up waiting) are
    not kept but sent from their thread, so that none is lost.
    """

    def __init__(self) -> None:
        self._items: list[Broadcast] = []
        self._open = True
        self._lock = threading.Lock()

    def add(self, item: Broadcast) -> bool:
        """Keep `item` for the caller; False once the caller has taken what there was."""
        with self._lock:
            if self._open:
                self._items.append(item)
            return self._open

    def take(self) -> list[Broadcast]:
        """Everything kept so far, in order; nothing more is kept after."""
        with self._lock:
            self._open = False
            items, self._items = self._items, []
            return items


_collecting = threading.local()


@contextmanager
def collecting(into: Collected) -> Iterator[None]:
    """On this thread, keep what is published once committed in `into` instead of sending it."""
    previous: Collected | None = getattr(_collecting, "into", None)
    _collecting.into = into
    try:
        yield
    finally:
        _collecting.into = previous


def after_commit(item: Broadcast) -> None:
    """Publish `item` once the current transaction commits (at once outside a transaction)."""
    transaction.on_commit(partial(_committed, item))


def _committed(item: Broadcast) -> None:
    into: Collected | None = getattr(_collecting, "into", None)
    if into is None or not into.add(item):
        send_from_thread([item])


async def send(items: Sequence[Broadcast]) -> None:
    """Send each broadcast through the channel layer, in order, on the running loop."""
    if not items:
        return
    layer = get_channel_layer()
    if layer is None:
        return
    for item in items:
        try:
            await layer.group_send(item.group, item.message)
        except RedisConnectionError as exc:
            # Redis restarting: the viewers' sockets dropped with it and catch up on reconnecting.
            log.warning("broadcast of %s lost (%s)", item.about, exc)
        except Exception:
            # A lost push must not undo a commit: see the module docstring for who catches up.
            log.exception("broadcast of %s failed", item.about)


def send_from_thread(items: Sequence[Broadcast]) -> None:
    """Send broadcasts from a thread (no loop of its own): on the viewers' loop, else ours."""
    if not items:
        return
    loop = _viewers_loop() or _own_loop()
    try:
        future = asyncio.run_coroutine_threadsafe(send(items), loop)
    except RuntimeError:  # the viewers' loop closed since we looked
        loop = _own_loop()
        future = asyncio.run_coroutine_threadsafe(send(items), loop)
    if _on_a_running_loop():
        return  # waiting here would block that loop (and deadlock it, were it `loop`)
    try:
        future.result(timeout=SEND_TIMEOUT_S)
    except TimeoutError:
        log.warning("broadcast of %s not sent within %g s", items[0].about, SEND_TIMEOUT_S)


_viewers: asyncio.AbstractEventLoop | None = None


def use_viewers_loop() -> None:
    """Send what threads publish on the running loop: the one this process's viewers run on."""
    global _viewers
    _viewers = asyncio.get_running_loop()


def _viewers_loop() -> asyncio.AbstractEventLoop | None:
    loop = _viewers
    if loop is None or loop.is_closed() or not loop.is_running():
        return None
    return loop


def _on_a_running_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


@dataclass(frozen=True)
class _LoopThread:
    loop: asyncio.AbstractEventLoop
    pid: int


_own: _LoopThread | None = None
_own_lock = threading.Lock()


def _own_loop() -> asyncio.AbstractEventLoop:
    """This process's own sending loop, on a daemon thread, started on first use.

    Per process: a Celery prefork child does not inherit its parent's thread.
    """
    global _own
    with _own_lock:
        if _own is None or _own.pid != os.getpid():
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="broadcasts", daemon=True).start()
            _own = _LoopThread(loop, os.getpid())
        return _own.loop
