"""POST /webhooks/zoom/: verify, deduplicate, store, hand RTMS events to the ingest, answer 200.

A delivery that cannot be handed to the ingest is forgotten and answered 503, so that Zoom's
retry of it is processed rather than taken for a duplicate.

`receive_delivery` holds the whole logic on plain headers and bytes. It is served at the ASGI
edge (`rtms_ingest.webhooks.endpoint`, the production path: no middleware chain, no thread per
request) and by the Django view below (same answers; used where Django routes the request).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import redis
from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from assistant import jobs
from assistant.services import deauthorization
from assistant.services.webhooks import delivery_key, forget_delivery, record_delivery
from assistant.tasks import report_deauthorization
from rtms_ingest.cluster.commands import NotAStreamEvent, StreamCommand, command_from_webhook
from rtms_ingest.protocol.webhook_signing import is_valid_webhook_signature, url_validation_response
from rtms_ingest.runtime.handover import hand_over
from rtms_ingest.storage.database import run_db_once
from rtms_ingest.webhooks.envelope import BadEnvelope, parse_envelope

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Answer:
    """The HTTP answer to one delivery: a status and a JSON body (None: no body, 204)."""

    status: int
    body: dict[str, Any] | None


def _error(status: int, reason: str) -> Answer:
    return Answer(status, {"error": reason})


async def receive_delivery(headers: Mapping[str, str], body: bytes) -> Answer:
    """Receive one Zoom webhook delivery; `headers` keyed by lower-case name."""
    secret = settings.ZOOM_WEBHOOK_SECRET_TOKEN
    if not secret:
        # Refuse rather than skip the check; Zoom retries once the secret is configured.
        log.error("webhook refused: ZOOM_WEBHOOK_SECRET_TOKEN is not set")
        return _error(503, "webhook secret token is not configured")
    if len(body) > settings.ZOOM_WEBHOOK_MAX_BODY_BYTES:
        return _error(413, "request body too large")
    refusal = _signature_refusal(headers, body, secret)
    if refusal:
        log.warning("webhook refused: %s", refusal)
        return _error(401, refusal)
    try:
        envelope = parse_envelope(body)
    except BadEnvelope as exc:
        return _error(400, str(exc))
    return await _handle(envelope, secret)


@csrf_exempt  # authenticated by the Zoom signature instead of a CSRF token
@require_POST
async def zoom_webhook(request: HttpRequest) -> HttpResponse:
    """Receive one Zoom webhook delivery (through Django)."""
    declared_length = request.headers.get("content-length", "0")
    if not declared_length.isdigit() or int(declared_length) > settings.ZOOM_WEBHOOK_MAX_BODY_BYTES:
        return JsonResponse({"error": "request body too large"}, status=413)
    headers = {name.lower(): value for name, value in request.headers.items()}
    answer = await receive_delivery(headers, request.body)
    if answer.body is None:
        return HttpResponse(status=answer.status)
    return JsonResponse(answer.body, status=answer.status)


def _signature_refusal(headers: Mapping[str, str], body: bytes, secret: str) -> str | None:
    """Why the signature or timestamp is unacceptable, or None."""
    timestamp = headers.get("x-zm-request-timestamp", "")
    signature = headers.get("x-zm-signature", "")
    if not timestamp or not signature:
        return "missing x-zm-request-timestamp or x-zm-signature"
    if not timestamp.isdigit():
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
    if not await run_db_once(record_delivery, key, envelope, command.rtms_stream_id):
        log.info("duplicate webhook %s for stream %s ignored", event, command.rtms_stream_id)
        return Answer(200, {"status": "duplicate"})
    try:
        await _hand_over(command)
    except Exception:
        # Stored but not queued: without the row, Zoom's retry (it retries a 503) is acted on.
        log.exception("webhook %s for stream %s not queued", event, command.rtms_stream_id)
        await run_db_once(forget_delivery, key)
        return _error(503, "the stream command could not be queued; retry later")
    return Answer(200, {"status": "accepted"})


async def _hand_over(command: StreamCommand) -> None:
    """Queue the command, trying once more on a connection error.

    After a Redis restart, redis-py's asyncio client fails the first command on a connection
    it opened before (RESP3 does not retry it); the second attempt connects afresh. While Redis
    is down both fail at once, and the delivery is answered 503.
    """
    try:
        await hand_over(command)
    except redis.exceptions.ConnectionError:
        await hand_over(command)


async def _deauthorized(envelope: dict[str, Any]) -> Answer:
    """A user removed the app: delete their data now, report to Zoom from a job."""
    payload = envelope.get("payload")
    if not isinstance(payload, dict) or not payload.get("user_id"):
        return _error(400, "payload.user_id is missing")
    key = delivery_key(envelope, f"user:{payload['user_id']}")
    if not await run_db_once(record_delivery, key, envelope, ""):
        return Answer(200, {"status": "duplicate"})
    # Deleting a user's meetings may take a while: on a thread of its own, not the ingest's
    # database threads, which keep answering the other webhooks.
    await sync_to_async(_deauthorize_and_report)(payload, key)
    return Answer(200, {"status": "accepted"})


def _deauthorize_and_report(payload: dict[str, Any], key: str) -> None:
    with transaction.atomic():
        audit = deauthorization.deauthorize(payload, key)
        jobs.submit(report_deauthorization, audit.pk)
