"""What the webhook receiver asks the ingest to do, as a small JSON-safe message."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields, replace
from typing import Any, Literal

from rtms_ingest.protocol.products import PRODUCTS_BY_WEBHOOK_PREFIX

Action = Literal["start", "stop", "interrupt", "reconfigure"]

_SUFFIX_ACTIONS: dict[str, Action] = {
    "rtms_started": "start",
    "voice_rtms_started": "start",
    "rtms_stopped": "stop",
    "voice_rtms_stopped": "stop",
    "rtms_interrupted": "interrupt",
    "voice_rtms_interrupted": "interrupt",
}


# The `event` of the starts one ingest queues for another (no webhook behind them): a stream
# handed over by an ingest that is shutting down, or taken over from one that stopped renewing
# its lease. Both rejoin a stream Zoom still has, with a fresh handshake on the same URL.
HANDOVER_EVENT = "ingest.handover"
TAKEOVER_EVENT = "ingest.takeover"
REJOIN_EVENTS = frozenset({HANDOVER_EVENT, TAKEOVER_EVENT})
# The `event` of a stop the app queues when it deletes a meeting whose stream is open (consent
# withdrawn): the stream is closed at once, not after Zoom's stop grace.
MEETING_DELETED_EVENT = "app.meeting_deleted"


class NotAStreamEvent(ValueError):
    """The webhook is valid but says nothing the ingest acts on, or lacks a needed field."""


@dataclass(frozen=True)
class StreamCommand:
    """Start, stop, reconnect or reconfigure (new sinks, maybe new media) one RTMS stream."""

    action: Action
    product: str
    zoom_id: str
    rtms_stream_id: str
    server_urls: str = ""
    operator_id: str = ""
    stop_reason: int | None = None
    event: str = ""
    event_ts: int | None = None
    # Zoom's April 2026 additions to rtms_started (reference §7), when present: the host's
    # account, the numeric meeting (or webinar) id a host dials, and whether the operator is
    # the meeting's original host (not a co-host or alternative host).
    account_id: str = ""
    meeting_number: int | None = None
    is_original_host: bool | None = None
    # Rejoins only: the ingest that held the stream, and the last stream-clock time it delivered.
    previous_holder: str = ""
    last_ms: int | None = None

    @property
    def rejoin(self) -> bool:
        """Whether this start rejoins a stream another ingest held (not Zoom's webhook)."""
        return self.action == "start" and self.event in REJOIN_EVENTS

    def rejoined(self, event: str, previous_holder: str, last_ms: int | None) -> StreamCommand:
        """This stream's start, as a rejoin queued by or for another ingest."""
        return replace(self, event=event, previous_holder=previous_holder, last_ms=last_ms)

    def to_json(self) -> str:
        """Serialise for the queue (the rejoin fields only when set: older ingests lack them)."""
        data = asdict(self)
        if not self.previous_holder and self.last_ms is None:
            del data["previous_holder"], data["last_ms"]
        return json.dumps(data, separators=(",", ":"))

    @classmethod
    def from_json(cls, raw: str | bytes) -> StreamCommand:
        """Parse a queued command; fields this release does not know are left out.

        So that ingests and web processes of two releases can share the queue during a deploy.
        """
        data = json.loads(raw)
        if not isinstance(data, dict):
            raise ValueError("a queued command is a JSON object")
        known = {f.name for f in fields(cls)}
        return cls(**{key: value for key, value in data.items() if key in known})


def command_from_webhook(body: dict[str, Any]) -> StreamCommand:
    """Turn a verified `*.rtms_started/stopped/interrupted` webhook into a command."""
    event = str(body.get("event", ""))
    prefix, _, suffix = event.partition(".")
    action = _SUFFIX_ACTIONS.get(suffix)
    if prefix not in PRODUCTS_BY_WEBHOOK_PREFIX or action is None:
        raise NotAStreamEvent(f"event {event!r} is not an RTMS stream event")
    rtms_product = PRODUCTS_BY_WEBHOOK_PREFIX[prefix]
    product, id_field = rtms_product.name, rtms_product.id_field
    payload = body.get("payload")
    if not isinstance(payload, dict):
        raise NotAStreamEvent("payload must be an object")
    zoom_id = payload.get(id_field) or payload.get("meeting_uuid")
    stream_id = payload.get("rtms_stream_id")
    if not isinstance(zoom_id, str) or not zoom_id:
        raise NotAStreamEvent(f"payload.{id_field} is missing")
    if not isinstance(stream_id, str) or not stream_id:
        raise NotAStreamEvent("payload.rtms_stream_id is missing")
    server_urls = payload.get("server_urls", "")
    if action == "start" and (not isinstance(server_urls, str) or not server_urls):
        raise NotAStreamEvent("payload.server_urls is missing")
    stop_reason = payload.get("stop_reason")
    event_ts = body.get("event_ts")
    return StreamCommand(
        action=action,
        product=product,
        zoom_id=zoom_id,
        rtms_stream_id=stream_id,
        server_urls=server_urls if isinstance(server_urls, str) else "",
        operator_id=str(payload.get("operator_id") or ""),
        stop_reason=stop_reason if _is_small_int(stop_reason) else None,
        event=event,
        event_ts=event_ts if isinstance(event_ts, int) else None,
        account_id=_short_text(payload.get("account_id")),
        meeting_number=_meeting_number(payload.get("meeting_id", payload.get("webinar_id"))),
        is_original_host=_flag(payload.get("is_original_host")),
    )


def _short_text(value: object) -> str:
    """A Zoom id kept as text: a non-empty string of at most 64 characters, else ""."""
    return value if isinstance(value, str) and len(value) <= 64 else ""


def _meeting_number(value: object) -> int | None:
    """The numeric meeting id (an int, or digits as text; UNCONFIRMED which), else None."""
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 18:
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**63:
        return value
    return None


def _flag(value: object) -> bool | None:
    """A JSON boolean, else None (absent or of another type)."""
    return value if isinstance(value, bool) else None


def _is_small_int(value: object) -> bool:
    """A stop reason worth keeping: an int that fits a 32-bit column (Zoom's are 0-26)."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**31
