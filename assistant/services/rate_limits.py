"""Budgets of uses per period, counted in the cache (Redis: shared by every web process).

A fixed window per key: the first use of a period creates its counter, which expires with the
period. Simple and cheap (two cache calls); at a window's edge a client may get up to twice the
budget within one period, which is fine for keeping one user from hogging the LLM.
"""

from __future__ import annotations

import math
import time

from django.core.cache import cache

from assistant.wiring.env import Rate


def take(budget: str, key: str, rate: Rate, *, now: float | None = None) -> int | None:
    """Count one use of `key`'s `budget`; None if within `rate`, else seconds until it renews."""
    now = time.time() if now is None else now
    window = int(now // rate.period_s)
    counter = f"rate:{budget}:{key}:{window}"
    # add is a no-op when the counter exists; incr is atomic in Redis and in local memory.
    cache.add(counter, 0, timeout=rate.period_s + 1)
    try:
        used = cache.incr(counter)
    except ValueError:  # expired between the two calls: this is the window's first use
        cache.add(counter, 1, timeout=rate.period_s + 1)
        used = 1
    if used <= rate.uses:
        return None
    return max(1, math.ceil((window + 1) * rate.period_s - now))
