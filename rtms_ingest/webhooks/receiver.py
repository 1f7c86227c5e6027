"""POST /webhooks/zoom/: verify, deduplicate, store, hand RTMS events to the ingest, answer 200.

A delivery that cannot be stored or handed to the ingest is answered 503 and leaves no row,
so that Zoom's retry of it is processed rather than taken for a duplicate. When the database
cannot be told to forget it at once (it is down, or the connection broke at the INSERT, which
may have landed), the row is removed once the database is back (`forget_later`, within
`RTMS_DB_RETRY_S`); that task lives in this process only: on a kill the row stays, and Zoom's
retry is then answered as a duplicate and not acted on.

`receive_delivery` holds the whole logic on plain headers and bytes; its one way in is the ASGI
edge (`rtms_ingest.webhooks.endpoint`), which checks the Host and caps the body first.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from channels.db import database_sync_to_async
from django.conf import settings
from django.db import connection, transaction

from assistant import jobs
from assistant.services import deauthorization, stream_refusals
from assistant.services.webhooks import delivery_key, forget_delivery, record_delivery
from rtms_ingest.cluster.commands import NotAStreamEvent, command_from_webhook
from rtms_ingest.protocol.webhook_signing import is_valid_webhook_signature, url_validation_response
from rtms_ingest.runtime.handover import hand_over
from rtms_ingest.storage.database import RETRYABLE, run_db_once, run_db_through_outage
from rtms_ingest.webhooks.envelope import BadEnvelope, parse_envelope

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Answer:
    """The HTTP answer to one delivery: a status and a JSON body (None: no body, 204)."""

    status: int
    body: dict[str, Any] | None


def is_decimal(text: str) -> bool:
    """Whether `text` is ASCII digits only: what a header's number may be.

    `str.isdigit` also takes digits `int` refuses (`'²'`, which a header decoded as Latin-1
    can carry) and ones it reads (fullwidth `'\\uff11'`): neither is a number on the wire.
    """
    return text.isascii() and text.isdigit()


def _error(status: int, reason: str) -> Answer:
    return Answer(status, {"error": reason})


_DATABASE_UNAVAILABLE = _error(503, "the database is unavailable; retry later")


async def receive_delivery(headers: Mapping[str, str], body: bytes) -> Answer:
    """Receive one Zoom webhook delivery (its body already capped by the endpoint).

    `headers` are keyed by lower-case name.
    """
    secret = settings.ZOOM_WEBHOOK_SECRET_TOKEN
    if not secret:
        # Refuse rather than skip the check; Zoom retries once the secret is configured.
        log.error("webhook refused: ZOOM_WEBHOOK_SECRET_TOKEN is not set")
        return _error(503, "webhook secret token is not configured")
    refusal = _signature_refusal(headers, body, secret)
    if refusal:
        log.warning("webhook refused: %s", refusal)
        return _error(401, refusal)
    try:
        envelope = parse_envelope(body)
    except BadEnvelope as exc:
        return _error(400, str(exc))
    return await _handle(envelope, secret)


def _signature_refusal(headers: Mapping[str, str], body: bytes, secret: str) -> str | None:
    """Why the signature or timestamp is unacceptable, or None."""
    timestamp = headers.get("x-zm-request-timestamp", "")
    signature = headers.get("x-zm-signature", "")
    if not timestamp or not signature:
        return "missing x-zm-request-timestamp or x-zm-signature"
    if not is_decimal(timestamp):
        return "x-zm-request-timestamp is not a unix time"
    if abs(time.time() - int(timestamp)) > settings.ZOOM_WEBHOOK_TOLERANCE_S:
        return "x-zm-request-timestamp is outside the accepted window"
    if not is_valid_webhook_signature(secret, timestamp, body, signature):
        return "x-zm-signature does not match"
    return None


async def _handle(envelope: dict[str, Any], secret: str) -> Answer:
    event = envelope["event"]
    payload = envelope.get("payload")
    if event == "endpoint.url_validation":
        plain = payload.get("plainToken") if isinstance(payload, dict) else None
        if not isinstance(plain, str) or not plain:
            return _error(400, "payload.plainToken is missing")
        return Answer(200, dict(url_validation_response(secret, plain)))
    if event == "app_deauthorized":
        return await _deauthorized(envelope)
    if event.endswith((CONCURRENCY_LIMITED, CONCURRENCY_NEAR_LIMIT)):
        return await _concurrency(event, payload)
    try:
        command = command_from_webhook(envelope)
    except NotAStreamEvent as exc:
        if "." in event and event.split(".", 1)[1].endswith(
            ("rtms_started", "rtms_stopped", "rtms_interrupted")
        ):
            return _error(400, str(exc))
        log.info("webhook %s accepted, nothing to do", event)
        return Answer(204, None)
    key = delivery_key(envelope, command.rtms_stream_id)
    try:
        stored = await run_db_once(_store, key, envelope, command.rtms_stream_id)
    except _NotConnected as exc:
        log.warning("webhook %s not stored: no database (%s)", event, exc.__cause__)
        return _DATABASE_UNAVAILABLE
    except RETRYABLE as exc:
        log.warning("webhook %s not stored: %s", event, exc)
        forget_later(key)  # the INSERT may have landed before the connection broke
        return _DATABASE_UNAVAILABLE
    if not stored:
        log.info("duplicate webhook %s for stream %s ignored", event, command.rtms_stream_id)
        return Answer(200, {"status": "duplicate"})
    try:
        await hand_over(command)
    except Exception:
        # Stored but not queued: without the row, Zoom's retry (it retries a 503) is acted on.
        log.exception("webhook %s for stream %s not queued", event, command.rtms_stream_id)
        await _forget(key)
        return _error(503, "the stream command could not be queued; retry later")
    return Answer(200, {"status": "accepted"})


class _NotConnected(Exception):
    """No connection to the database: nothing was sent, so nothing was stored."""


def _store(key: str, envelope: dict[str, Any], stream_id: str) -> bool:
    """`record_delivery`, once connected: a failure to connect raises _NotConnected."""
    try:
        connection.close_if_health_check_failed()
        connection.ensure_connection()
    except RETRYABLE as exc:
        raise _NotConnected from exc
    return record_delivery(key, envelope, stream_id)


# Forgetting deliveries once the database is back; kept so that no task is collected early.
_forgetting: set[asyncio.Task[None]] = set()


async def _forget(key: str) -> None:
    """Remove a delivery answered 503; if the database is down, once it is back."""
    try:
        await run_db_once(forget_delivery, key)
    except RETRYABLE:
        forget_later(key)


def forget_later(key: str) -> None:
    """Remove a delivery answered 503 in the background, waiting for the database if need be."""
    task = asyncio.create_task(_forget_once_back(key))
    _forgetting.add(task)
    task.add_done_callback(_forgetting.discard)


async def _forget_once_back(key: str) -> None:
    try:
        await run_db_through_outage(forget_delivery, key)
    except RETRYABLE:
        log.error("delivery %s answered 503 but still stored: Zoom's retry looks a duplicate", key)


# Zoom's notices that the app is at (or near) its plan's limit of concurrent streams (RTMS
# changelog 2025-07-21): the limited one comes instead of an rtms_started that never follows.
CONCURRENCY_LIMITED = ".rtms_concurrency_limited"
CONCURRENCY_NEAR_LIMIT = ".rtms_concurrency_near_limit"


async def _concurrency(event: str, payload: object) -> Answer:
    """Log the notice; a refused meeting's panel is told why no stream comes."""
    fields = payload if isinstance(payload, dict) else {}
    meeting_uuid = fields.get("meeting_uuid")
    if event.endswith(CONCURRENCY_NEAR_LIMIT):
        log.warning("webhook %s: the app is near its limit of concurrent RTMS streams", event)
        return Answer(204, None)
    log.warning(
        "webhook %s: Zoom refused a stream of meeting %s: the app is at its limit of "
        "concurrent RTMS streams",
        event,
        meeting_uuid or "(not named)",
    )
    if isinstance(meeting_uuid, str) and meeting_uuid:
        try:
            await stream_refusals.concurrency_limited(meeting_uuid)
        except Exception:  # a notice for the panel: never worth a retry of Zoom's delivery
            log.exception("webhook %s: the refusal could not be kept for the panel", event)
    return Answer(200, {"status": "accepted"})


async def _deauthorized(envelope: dict[str, Any]) -> Answer:
    """A user removed the app: delete their data now, report to Zoom from a job."""
    payload = envelope.get("payload")
    if not isinstance(payload, dict) or not payload.get("user_id"):
        return _error(400, "payload.user_id is missing")
    key = delivery_key(envelope, f"user:{payload['user_id']}")
    try:
        if not await run_db_once(_store, key, envelope, ""):
            return Answer(200, {"status": "duplicate"})
    except _NotConnected as exc:
        log.warning("app_deauthorized not stored: no database (%s)", exc.__cause__)
        return _DATABASE_UNAVAILABLE
    except RETRYABLE as exc:
        log.warning("app_deauthorized not stored: %s", exc)
        forget_later(key)
        return _DATABASE_UNAVAILABLE
    try:
        # Deleting a user's meetings may take a while: on a thread of its own, not the
        # ingest's database threads, which keep answering the other webhooks. That thread's
        # connection is dropped when broken or old, before and after (no request signals here).
        await database_sync_to_async(_deauthorize_and_report)(payload, key)
    except RETRYABLE as exc:
        # Rolled back: Zoom's retry must find no delivery, or the user's data would stay.
        log.warning("app_deauthorized not carried out: %s", exc)
        await _forget(key)
        return _DATABASE_UNAVAILABLE
    return Answer(200, {"status": "accepted"})


def _deauthorize_and_report(payload: dict[str, Any], key: str) -> None:
    with transaction.atomic():
        audit = deauthorization.deauthorize(payload, key)
        jobs.submit(jobs.REPORT_DEAUTHORIZATION, audit.pk)
