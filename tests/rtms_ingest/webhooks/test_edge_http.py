"""The webhook at the ASGI edge checks the Host as Django would and answers with its headers."""

from __future__ import annotations

import json
import logging
import time
from typing import Any

import pytest
from django.conf import settings
from django.test import override_settings

from rtms_ingest.protocol.webhook_signing import webhook_signature
from tests.rtms_ingest.webhooks import edge
from tests.rtms_ingest.webhooks.edge import URL, scope


def url_validation(
    host: bytes | None, extra: list[tuple[bytes, bytes]] | None = None
) -> tuple[dict[str, Any], bytes]:
    body = json.dumps({"event": "endpoint.url_validation", "payload": {"plainToken": "abc"}})
    ts = str(int(time.time()))
    headers = [
        (b"content-type", b"application/json"),
        (b"x-zm-request-timestamp", ts.encode()),
        (
            b"x-zm-signature",
            webhook_signature(settings.ZOOM_WEBHOOK_SECRET_TOKEN, ts, body.encode()).encode(),
        ),
        *(extra or []),
    ]
    request = scope(URL, headers)
    request["headers"] = [(k, v) for k, v in request["headers"] if k != b"host"]
    if host is not None:
        request["headers"].append((b"host", host))
    return request, body.encode()


async def answer(request: dict[str, Any], body: bytes) -> tuple[int, dict[bytes, bytes], bytes]:
    response = await edge.answer(request, [body])
    return response.status_code, response.headers, response.content


async def test_host_not_in_allowed_hosts_is_400_and_logged_as_django_does(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="django.security.DisallowedHost"):
        status, _, body = await answer(*url_validation(b"evil.example"))
    assert status == 400
    assert json.loads(body) == {"error": "invalid Host header"}
    assert "You may need to add 'evil.example' to ALLOWED_HOSTS" in caplog.text


async def test_malformed_host_is_400() -> None:
    status, _, _ = await answer(*url_validation(b"bad host!"))
    assert status == 400


@override_settings(ALLOWED_HOSTS=[".example.com"])
async def test_host_matching_an_allowed_pattern_with_a_port_is_served() -> None:
    status, _, _ = await answer(*url_validation(b"hooks.example.com:8443"))
    assert status == 200


@override_settings(ALLOWED_HOSTS=["hooks.example.com"])
async def test_without_a_host_header_the_server_name_is_checked() -> None:
    request, body = url_validation(None)
    request["server"] = ("127.0.0.1", 8000)
    status, _, _ = await answer(request, body)
    assert status == 400
    request["server"] = ("hooks.example.com", 80)
    status, _, _ = await answer(request, body)
    assert status == 200


@override_settings(ALLOWED_HOSTS=["hooks.example.com"], USE_X_FORWARDED_HOST=True)
async def test_forwarded_host_is_checked_when_the_proxy_is_trusted_for_it() -> None:
    forwarded = [(b"x-forwarded-host", b"hooks.example.com")]
    status, _, _ = await answer(*url_validation(b"127.0.0.1", forwarded))
    assert status == 200


async def test_answers_carry_the_security_headers_django_would_add() -> None:
    status, headers, _ = await answer(*url_validation(b"127.0.0.1"))
    assert status == 200
    assert headers[b"x-content-type-options"] == b"nosniff"
    assert headers[b"referrer-policy"] == settings.SECURE_REFERRER_POLICY.encode()
    assert headers[b"x-frame-options"] == settings.X_FRAME_OPTIONS.encode()
    assert b"strict-transport-security" not in headers  # plain HTTP: Django adds none either


@override_settings(SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https"))
async def test_hsts_is_sent_on_a_request_secure_behind_the_proxy() -> None:
    proto = [(b"x-forwarded-proto", b"https")]
    _, headers, _ = await answer(*url_validation(b"127.0.0.1", proto))
    assert headers[b"strict-transport-security"].startswith(
        f"max-age={settings.SECURE_HSTS_SECONDS}".encode()
    )


async def test_refusals_before_the_body_carry_the_security_headers_too() -> None:
    request, body = url_validation(b"evil.example")
    _, headers, _ = await answer(request, body)
    assert headers[b"x-content-type-options"] == b"nosniff"
