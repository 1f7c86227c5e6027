"""A Celery worker renews the jobs it holds, so a dead worker's jobs run again within seconds.

With the Redis transport a delivered job waits, unacknowledged (`acks_late`), in kombu's
`unacked` hash, indexed by its delivery time in the sorted set `unacked_index`. Every worker
regularly puts the jobs older than the visibility timeout back on their queues: that is how the
job of a worker that was SIGKILLed (or OOM-killed, or whose host was lost) runs again. Kombu's
default timeout is an hour; a timeout just above the longest time limit (final notes: 660 s,
plus a 300 s retry countdown held by the worker) would still leave such a job for a quarter of
an hour, past the ASR audio's TTL. A short timeout alone would run a long job twice while its
worker lives.

So the timeout is short (JOBS_VISIBILITY_TIMEOUT_S) and every live worker renews its jobs'
delivery time a few times per timeout, from a thread of its main process: a job whose worker
lives is never handed to another, however long it runs or waits for its countdown; a job whose
worker died comes back within about one timeout. Renewal only updates entries that are still
there (ZADD XX), so it never revives a job already acknowledged or restored. A worker cut off
from Redis longer than the timeout may see its job run a second time elsewhere: jobs are
idempotent (`acks_late` is only set on such tasks), so that costs work, never correctness.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import redis
from celery import bootsteps
from celery.worker import state
from kombu.transport.redis import Channel as RedisChannel

log = logging.getLogger(__name__)

RENEWALS_PER_TIMEOUT = 5


class JobLeases:
    """Renews, in the broker's index of unacknowledged jobs, those this worker holds."""

    def __init__(
        self,
        redis_url: str,
        index_key: str,
        every_s: float,
        held: Callable[[], list[str]] | None = None,
    ) -> None:
        self.index_key = index_key
        self.every_s = every_s
        self._held = held or held_delivery_tags
        # A renewal must not outwait its own period (a half-open connection would block it).
        self._redis = redis.Redis.from_url(
            redis_url, socket_timeout=every_s, socket_connect_timeout=every_s
        )
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @classmethod
    def for_app(cls, app: Any) -> JobLeases | None:
        """The leases for a Celery app's broker; None unless the broker is Redis."""
        url = str(app.conf.broker_read_url or app.conf.broker_url or "")
        if not url.startswith(("redis://", "rediss://", "unix://")):
            return None
        options = app.conf.broker_transport_options or {}
        index_key = options.get("global_keyprefix", "") + options.get(
            "unacked_index_key", RedisChannel.unacked_index_key
        )
        timeout_s = float(options.get("visibility_timeout", RedisChannel.visibility_timeout))
        return cls(url, index_key, timeout_s / RENEWALS_PER_TIMEOUT)

    def renew(self, delivery_tags: list[str]) -> int:
        """Stamp these jobs as delivered now, if still unacknowledged; how many were."""
        if not delivery_tags:
            return 0
        stamped = self._redis.zadd(
            self.index_key, dict.fromkeys(delivery_tags, time.time()), xx=True, ch=True
        )
        return int(stamped or 0)

    def start(self) -> None:
        """Renew what this worker holds every `every_s`, on a thread, until stop()."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="job-leases", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.every_s + 1)
        self._redis.close()

    def _run(self) -> None:
        failing = False
        while not self._stop.wait(self.every_s):
            try:
                self.renew(self._held())
            except Exception as exc:
                # Redis unreachable, mostly; whatever it is, the thread must live on.
                if not failing:  # once per outage, not every period
                    log.warning("renewing held jobs failed (%s); retrying", exc)
                failing = True
                continue
            if failing:
                log.warning("renewing held jobs again")
            failing = False


def held_delivery_tags() -> list[str]:
    """Delivery tags of every job this worker holds: running, reserved or waiting for its ETA."""
    # state.requests is the worker's own map of those (Celery adds and drops them on the main
    # thread); list() copies it in one step under the GIL.
    tags = []
    for request in list(state.requests.values()):
        tag = getattr(getattr(request, "message", None), "delivery_tag", None)
        if tag is not None:
            tags.append(str(tag))
    return tags


class RenewHeldJobs(bootsteps.StartStopStep):
    """Worker consumer step: JobLeases for the worker's lifetime (reconnections included)."""

    requires = ("celery.worker.consumer.tasks:Tasks",)

    def __init__(self, parent: Any, **kwargs: Any) -> None:
        super().__init__(parent, **kwargs)
        self.leases: JobLeases | None = None

    def start(self, parent: Any) -> None:
        # Called again after each reconnection; the thread keeps running across them.
        if self.leases is None:
            self.leases = JobLeases.for_app(parent.app)
            if self.leases is not None:
                self.leases.start()

    def shutdown(self, parent: Any) -> None:
        if self.leases is not None:
            self.leases.stop()
            self.leases = None
