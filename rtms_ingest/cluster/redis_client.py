"""The ingest's asyncio Redis clients: one retry of a command whose pooled connection was dead.

After a Redis restart, every connection opened before it is dead, and redis-py's asyncio client
(RESP3) fails the first command on each. One immediate retry on a fresh connection covers that;
while Redis is really down the retry fails at once too, and the caller's own backoff applies.
"""

from __future__ import annotations

from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError, TimeoutError

__all__ = ["redis_client"]


def redis_client(redis_url: str, **options: Any) -> aioredis.Redis:
    """An asyncio client that retries a command once, at once, after a connection error."""
    return aioredis.Redis.from_url(
        redis_url,
        retry=Retry(NoBackoff(), 1),
        retry_on_error=[ConnectionError, TimeoutError],
        **options,
    )
