"""Posting signed `*.rtms_started` / `*.rtms_stopped` webhooks, as Zoom does."""

from __future__ import annotations

import asyncio
import json
import socket
import time
import urllib.error
import urllib.request
import uuid
from typing import Any
from urllib.parse import urlsplit

from rtms_ingest.protocol.webhook_signing import webhook_signature

# Zoom gives an endpoint 3 s; a little more keeps a slow test machine from flaking.
DEFAULT_TIMEOUT_S = 10.0


class WebhookDeliveryError(RuntimeError):
    """The webhook target could not be reached or did not answer 2xx."""


def encode_body(body: dict[str, Any]) -> bytes:
    """The exact bytes posted (compact JSON, UTF-8); the signature covers these bytes."""
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def signed_headers(secret_token: str, raw_body: bytes, now_s: int | None = None) -> dict[str, str]:
    """The headers Zoom sends with a webhook, signed over `raw_body`."""
    timestamp = str(int(time.time()) if now_s is None else now_s)
    return {
        "content-type": "application/json",
        "x-zm-request-timestamp": timestamp,
        "x-zm-signature": webhook_signature(secret_token, timestamp, raw_body),
        "x-zm-trackingid": str(uuid.uuid4()),
    }


def webhook_body(event: str, payload: dict[str, Any], event_ts_ms: int | None = None) -> dict:
    """The webhook envelope: RTMS fields sit directly under `payload` (reference §1.1)."""
    ts = int(time.time() * 1000) if event_ts_ms is None else event_ts_ms
    return {"event": event, "event_ts": ts, "payload": payload}


async def post_webhook(
    url: str, secret_token: str, body: dict[str, Any], timeout_s: float = DEFAULT_TIMEOUT_S
) -> int:
    """POST one signed webhook without blocking the loop; returns the HTTP status (2xx)."""
    raw = encode_body(body)
    headers = signed_headers(secret_token, raw)
    event = str(body.get("event", "webhook"))
    return await asyncio.to_thread(_post, url, raw, headers, timeout_s, event)


def _post(url: str, raw: bytes, headers: dict[str, str], timeout_s: float, event: str) -> int:
    if urlsplit(url).scheme not in ("http", "https"):
        raise WebhookDeliveryError(f"webhook URL {url!r} must be http:// or https://")
    request = urllib.request.Request(url, data=raw, headers=headers, method="POST")  # noqa: S310
    # A simulator talks to a local app: never route that through an environment proxy.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=timeout_s) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        raise WebhookDeliveryError(
            f"webhook target {url} answered HTTP {exc.code} to {event} (expected 2xx)"
        ) from None
    except urllib.error.URLError as exc:
        raise WebhookDeliveryError(
            f"webhook target {url} is unreachable: {_describe(exc.reason)}"
        ) from None
    except TimeoutError:
        raise WebhookDeliveryError(
            f"webhook target {url} did not answer {event} within {timeout_s:g} s"
        ) from None
    except (OSError, ValueError) as exc:
        raise WebhookDeliveryError(f"webhook target {url} failed: {exc}") from None


def _describe(reason: object) -> str:
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused"
    if isinstance(reason, TimeoutError):
        return "timed out"
    if isinstance(reason, socket.gaierror):
        return f"host name not found ({reason.strerror})"
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror.lower()
    return str(reason)
