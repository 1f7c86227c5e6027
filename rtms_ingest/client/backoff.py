"""Reconnection policy of the RTMS client: jittered exponential backoff and an error classifier."""

from __future__ import annotations

import asyncio
import random
import ssl

from rtms_ingest.client.wire import UpgradeRefused

__all__ = ["Backoff", "is_retryable"]

# HTTP statuses on the WebSocket upgrade that mean "try again later" rather than "go away".
_RETRYABLE_HTTP = frozenset({408, 429, 500, 502, 503, 504})


class Backoff:
    """Delays between reconnection attempts: quick first retry, then initial_s doubling to max_s.

    After `reset()` (a successful handshake) the next delay is short, up to `first_s`: the
    official SDK rejoins about 1 s after a drop, and every second waited is data lost. The
    delays after that follow the reference (3 s, doubling, capped at 30 s), each scaled by a
    random factor in [1 - jitter, 1 + jitter] so that many streams dropped together by one
    server do not all come back in the same instant. The cap stays a hard cap.
    """

    def __init__(
        self,
        initial_s: float,
        max_s: float,
        *,
        first_s: float = 0.5,
        factor: float = 2.0,
        jitter: float = 0.2,
        rng: random.Random | None = None,
    ) -> None:
        if initial_s < 0 or max_s < 0 or first_s < 0 or factor < 1 or not 0 <= jitter < 1:
            raise ValueError("backoff delays must be >= 0, factor >= 1 and 0 <= jitter < 1")
        self._initial_s = initial_s
        self._max_s = max_s
        self._first_s = first_s
        self._factor = factor
        self._jitter = jitter
        # Jitter only spreads load; it is not a security boundary, so `random` is right here.
        self._rng = rng or random.Random()  # noqa: S311
        self._attempt = 0

    def reset(self) -> None:
        """Start again from the quick first retry (after a successful handshake)."""
        self._attempt = 0

    def next_delay(self) -> float:
        """The delay in seconds before the next attempt."""
        attempt = self._attempt
        self._attempt += 1
        if attempt == 0:
            return self._rng.uniform(0.0, self._first_s)
        base = min(self._initial_s * self._factor ** (attempt - 1), self._max_s)
        spread = self._rng.uniform(1.0 - self._jitter, 1.0 + self._jitter)
        return min(base * spread, self._max_s)


def is_retryable(exc: BaseException) -> bool:
    """Whether a failure to connect or a lost connection is worth another attempt.

    Transient network trouble and server-side hiccups are retryable; a URL that cannot be
    used, a certificate that does not verify, or an HTTP refusal of the upgrade (4xx) will not
    get better by retrying, so they are fatal. A closed socket (SocketClosed) is an OSError.
    An upgrade answered with no valid HTTP response at all (the server closed early) is
    retried: a restarting server does that.
    """
    if isinstance(exc, ssl.SSLCertVerificationError):
        return False
    if isinstance(exc, EOFError | OSError | asyncio.TimeoutError):
        return True
    if isinstance(exc, UpgradeRefused):
        return exc.status is None or exc.status in _RETRYABLE_HTTP
    return False
