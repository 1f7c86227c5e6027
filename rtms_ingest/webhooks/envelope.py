"""A webhook body, checked and normalised before anything stores it (bad input is a 4xx).

Zoom's envelope is `{"event": str, "event_ts": int64 ms, "payload": {...}}`. What PostgreSQL
refuses must be refused here, as a 400 with a reason, never met later as a 500: a NUL
character in any string (`jsonb` and `text` cannot hold one), an `event_ts` past 64 bits
(`bigint`), non-finite numbers, strings that are not UTF-8, nesting deeper than any real
webhook, and identifiers longer than their columns.
"""

from __future__ import annotations

from typing import Any

import orjson

__all__ = ["BadEnvelope", "parse_envelope"]

_INT64_MAX = 2**63 - 1
# Columns of WebhookDelivery: event varchar(100), rtms_stream_id varchar(255).
EVENT_MAX_CHARS = 100
ID_MAX_CHARS = 255
# Zoom's envelopes nest three or four levels; a deeper body is not a webhook.
MAX_DEPTH = 16


class BadEnvelope(ValueError):
    """The body is not an acceptable webhook envelope; str(exc) says why (for the 400)."""


def parse_envelope(body: bytes) -> dict[str, Any]:
    """The envelope of a signed body, validated; BadEnvelope with the reason otherwise.

    orjson refuses what PostgreSQL would (NaN and infinities, invalid UTF-8, lone surrogates);
    it reads an integer past 64 bits as a float, so such an `event_ts` fails the integer check
    below (and one between 2**63 and 2**64 the range check).
    """
    try:
        envelope = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise BadEnvelope(f"body is not valid JSON: {exc}") from None
    if not isinstance(envelope, dict):
        raise BadEnvelope("body must be a JSON object with an 'event' string")
    event = envelope.get("event")
    if not isinstance(event, str) or not event:
        raise BadEnvelope("body must be a JSON object with an 'event' string")
    if len(event) > EVENT_MAX_CHARS:
        raise BadEnvelope(f"event is longer than {EVENT_MAX_CHARS} characters")
    event_ts = envelope.get("event_ts")
    if event_ts is not None and (
        isinstance(event_ts, bool) or not isinstance(event_ts, int) or event_ts < 0
    ):
        raise BadEnvelope("event_ts must be a non-negative integer (ms)")
    if isinstance(event_ts, int) and event_ts > _INT64_MAX:  # orjson takes unsigned 64 bits
        raise BadEnvelope("event_ts is beyond 64 bits")
    payload = envelope.get("payload")
    if payload is not None and not isinstance(payload, dict):
        raise BadEnvelope("payload must be an object")
    if isinstance(payload, dict):
        stream_id = payload.get("rtms_stream_id")
        if isinstance(stream_id, str) and len(stream_id) > ID_MAX_CHARS:
            raise BadEnvelope(f"payload.rtms_stream_id is longer than {ID_MAX_CHARS} characters")
    _check_storable(envelope, "body", 0)
    return envelope


def _check_storable(value: object, where: str, depth: int) -> None:
    """BadEnvelope if `value` holds something PostgreSQL jsonb would refuse."""
    if depth > MAX_DEPTH:
        raise BadEnvelope(f"{where} is nested deeper than {MAX_DEPTH} levels")
    if isinstance(value, str):
        if "\x00" in value:
            raise BadEnvelope(f"{where} contains a NUL character")
    elif isinstance(value, dict):
        for key, item in value.items():
            if "\x00" in key:
                raise BadEnvelope(f"a key in {where} contains a NUL character")
            _check_storable(item, f"{where}.{key[:40]}", depth + 1)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_storable(item, f"{where}[{index}]", depth + 1)
