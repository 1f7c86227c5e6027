"""Oversized webhook bodies are refused at the ASGI edge, before Django buffers them."""

from __future__ import annotations

from typing import Any

import pytest
from asgiref.testing import ApplicationCommunicator
from django.conf import settings

from assistant.asgi import application

LIMIT = settings.ZOOM_WEBHOOK_MAX_BODY_BYTES


def scope(path: str, headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1"), *headers],
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 8000),
    }


async def status_of(path: str, chunks: list[bytes], headers: list[tuple[bytes, bytes]]) -> int:
    app = ApplicationCommunicator(application, scope(path, headers))
    for i, chunk in enumerate(chunks):
        await app.send_input(
            {"type": "http.request", "body": chunk, "more_body": i < len(chunks) - 1}
        )
    start = await app.receive_output(timeout=5)
    await app.wait(timeout=5)
    return int(start["status"])


async def test_declared_oversized_body_is_413_without_reading_it() -> None:
    headers = [(b"content-length", str(LIMIT + 1).encode())]
    assert await status_of("/webhooks/zoom/", [b"{}"], headers) == 413


@pytest.mark.django_db(transaction=True)
async def test_chunked_body_is_cut_off_at_the_limit() -> None:
    chunks = [b"x" * (LIMIT // 2)] * 3  # no content-length, like chunked transfer encoding
    assert await status_of("/webhooks/zoom/", chunks, []) == 413


@pytest.mark.django_db(transaction=True)
async def test_small_body_reaches_the_view_whole() -> None:
    # The view sees the replayed body: unsigned, so the signature check answers 401.
    assert await status_of("/webhooks/zoom/", [b'{"event":', b' "x"}'], []) == 401


@pytest.mark.django_db(transaction=True)
async def test_url_validation_is_answered_at_the_asgi_edge() -> None:
    import json
    import time

    from rtms_ingest.protocol.webhook_signing import url_validation_response, webhook_signature

    body = json.dumps({"event": "endpoint.url_validation", "payload": {"plainToken": "abc"}})
    ts = str(int(time.time()))
    secret = settings.ZOOM_WEBHOOK_SECRET_TOKEN
    headers = [
        (b"content-type", b"application/json"),
        (b"x-zm-request-timestamp", ts.encode()),
        (b"x-zm-signature", webhook_signature(secret, ts, body.encode()).encode()),
    ]
    app = ApplicationCommunicator(application, scope("/webhooks/zoom/", headers))
    await app.send_input({"type": "http.request", "body": body.encode(), "more_body": False})
    start = await app.receive_output(timeout=5)
    answer = await app.receive_output(timeout=5)
    assert start["status"] == 200
    assert json.loads(answer["body"]) == url_validation_response(secret, "abc")


@pytest.mark.parametrize("length", [b"\xb2", "\uff11\uff12".encode()])
async def test_a_content_length_of_unicode_digits_is_400_at_the_asgi_edge(length: bytes) -> None:
    # A header byte decodes as Latin-1: b"\xb2" is "\u00b2" (isdigit, yet int refuses it).
    headers = [(b"content-length", length)]
    assert await status_of("/webhooks/zoom/", [b"{}"], headers) == 400
