"""The webhook at the ASGI edge: bodies over the cap refused as they arrive, the rest answered."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.urls import Resolver404, resolve

from tests.rtms_ingest.webhooks.edge import URL, request, status_of

LIMIT = settings.ZOOM_WEBHOOK_MAX_BODY_BYTES


async def test_declared_oversized_body_is_413_without_reading_it() -> None:
    headers = [(b"content-length", str(LIMIT + 1).encode())]
    assert await status_of(URL, [b"{}"], headers) == 413


@pytest.mark.django_db(transaction=True)
async def test_chunked_body_is_cut_off_at_the_limit() -> None:
    chunks = [b"x" * (LIMIT // 2)] * 3  # no content-length, like chunked transfer encoding
    assert await status_of(URL, chunks, []) == 413


@pytest.mark.django_db(transaction=True)
async def test_small_body_reaches_the_receiver_whole() -> None:
    # The receiver gets the body whole: unsigned, so the signature check answers 401.
    assert await status_of(URL, [b'{"event":', b' "x"}'], []) == 401


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
    response = await request(URL, [body.encode()], headers)
    assert response.status_code == 200
    assert json.loads(response.content) == url_validation_response(secret, "abc")


@pytest.mark.parametrize("length", [b"\xb2", "\uff11\uff12".encode()])
async def test_a_content_length_of_unicode_digits_is_400_at_the_asgi_edge(length: bytes) -> None:
    # A header byte decodes as Latin-1: b"\xb2" is "\u00b2" (isdigit, yet int refuses it).
    headers = [(b"content-length", length)]
    assert await status_of(URL, [b"{}"], headers) == 400


def test_django_routes_nothing_to_the_webhook() -> None:
    # The endpoint is the one way in: no second implementation behind Django's URLconf.
    with pytest.raises(Resolver404):
        resolve(URL)
