"""What waits in the real Redis command queue, read the way a test needs it."""

from __future__ import annotations

import redis

from rtms_ingest.cluster.command_queue import COMMANDS_STREAM, FIELD, LEGACY_COMMANDS_KEY
from rtms_ingest.cluster.commands import StreamCommand


def queued_commands(r: redis.Redis) -> list[StreamCommand]:
    """The commands queued for the ingests and not acted on yet, oldest first."""
    return [
        StreamCommand.from_json(fields[FIELD.encode()])
        for _, fields in r.xrange(COMMANDS_STREAM, "-", "+") or []
        if fields is not None
    ]


def clear_queue(r: redis.Redis) -> None:
    """Empty the queue (and the previous release's list)."""
    r.delete(COMMANDS_STREAM, LEGACY_COMMANDS_KEY)
