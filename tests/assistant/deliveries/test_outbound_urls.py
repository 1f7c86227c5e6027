"""URLs hosts type cannot reach internal services (SSRF): https, public addresses, no redirects."""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from pytest_django.fixtures import Settings

from assistant.models import Delivery, DeliveryAttempt, Meeting
from assistant.services import outbound_http
from tests.assistant.deliveries.conftest import Receiver, finish_and_deliver, webhook

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("93.184.215.14", True),
        ("2606:4700::6810:84e5", True),
        ("127.0.0.1", False),
        ("10.1.2.3", False),
        ("172.16.0.1", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),  # cloud metadata
        ("100.64.0.1", False),  # carrier-grade NAT
        ("0.0.0.0", False),
        ("224.0.0.1", False),  # multicast
        ("::1", False),
        ("fd00::1", False),
        ("fe80::1", False),
        ("::ffff:127.0.0.1", False),  # IPv4-mapped
        ("2002:7f00:1::1", False),  # 6to4 of 127.0.0.1
        ("64:ff9b::a00:1", False),  # NAT64 of 10.0.0.1
    ],
)
def test_only_public_addresses_pass(address: str, public: bool) -> None:
    assert outbound_http.is_public(ipaddress.ip_address(address)) is public


def test_a_loopback_receiver_is_refused_when_private_urls_are_not_allowed(
    ended_meeting: Meeting, host: User, receiver: Receiver, settings: Settings
) -> None:
    target = webhook(host, receiver.url.replace("http://", "https://"))
    settings.DELIVERY_ALLOW_PRIVATE_URLS = False
    finish_and_deliver(ended_meeting)

    assert receiver.received == []
    delivery = Delivery.objects.get(target=target)
    assert delivery.state == "failed"
    assert delivery.error == "refused: 127.0.0.1 resolves to a non-public address (127.0.0.1)"
    assert delivery.attempts == 1  # a refusal is never retried


def test_a_name_is_checked_by_the_addresses_it_resolves_to(settings: Settings) -> None:
    settings.DELIVERY_ALLOW_PRIVATE_URLS = False
    with pytest.raises(outbound_http.Refused, match=r"localhost resolves to a non-public"):
        outbound_http.post("https://localhost:9/hook", b"{}", {}, timeout_s=1)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://hooks.example.com/x", "only https URLs are allowed"),
        ("ftp://hooks.example.com/x", "only https URLs are allowed"),
        ("https://user:pw@hooks.example.com/x", "credentials in a URL are not allowed"),
        ("https:///x", "the URL has no host"),
    ],
)
def test_urls_of_the_wrong_form_are_refused_before_any_lookup(
    url: str, reason: str, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.DELIVERY_ALLOW_PRIVATE_URLS = False
    monkeypatch.setattr(outbound_http, "resolve", _no_lookup_expected)
    with pytest.raises(outbound_http.Refused, match=reason):
        outbound_http.post(url, b"{}", {}, timeout_s=1)


def _no_lookup_expected(host: str, port: int) -> list[outbound_http.IPAddress]:
    raise AssertionError("looked up")


def test_the_connection_goes_to_the_address_that_was_checked(
    local_urls: None, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One lookup, checked, then connected to: a second DNS answer (rebinding) is never asked."""
    lookups: list[str] = []

    def resolver_fake(host: str, port: int) -> list[outbound_http.IPAddress]:
        lookups.append(host)
        return [ipaddress.ip_address("127.0.0.1")]

    monkeypatch.setattr(outbound_http, "resolve", resolver_fake)
    port = receiver.url.rsplit(":", 1)[1]
    answer = outbound_http.post(f"http://hooks.example.test:{port}/in", b"{}", {}, timeout_s=5)

    assert answer.status == 200
    assert lookups == ["hooks.example.test"]
    [request] = receiver.received
    assert request.headers["host"] == f"hooks.example.test:{port}"


def test_a_redirect_is_not_followed_and_fails_the_delivery(
    ended_meeting: Meeting,
    host: User,
    receiver: Receiver,
    make_receiver: Callable[[], Receiver],
) -> None:
    elsewhere = make_receiver()
    receiver.script = [(307, {"Location": f"{elsewhere.url}/internal"})]
    webhook(host, receiver.url)
    finish_and_deliver(ended_meeting)

    assert len(receiver.received) == 1
    assert elsewhere.received == []
    delivery = Delivery.objects.get(meeting=ended_meeting)
    assert (delivery.state, delivery.attempts) == ("failed", 1)
    assert delivery.error == "HTTP 307: redirect to 127.0.0.1 not followed"


def test_a_receiver_that_is_down_is_retried_then_failed(
    ended_meeting: Meeting, host: User, settings: Settings
) -> None:
    settings.DELIVERY_MAX_ATTEMPTS = 2
    webhook(host, "http://127.0.0.1:9/closed")  # discard port: nothing listens
    finish_and_deliver(ended_meeting)

    delivery = Delivery.objects.get(meeting=ended_meeting)
    assert (delivery.state, delivery.attempts) == ("failed", 2)
    assert "ConnectionRefusedError" in delivery.error
    log = DeliveryAttempt.objects.filter(delivery=delivery)
    assert [a.status_code for a in log] == [None, None]
    assert all("ConnectionRefusedError" in a.error for a in log)


def test_a_receiver_answering_a_byte_at_a_time_is_cut_off(local_urls: None) -> None:
    """Each read has its timeout; the whole exchange has a deadline too."""
    server = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def drip() -> None:
        conn, _ = server.accept()
        with conn:
            conn.recv(65536)
            conn.sendall(b"HTTP/1.1 200 OK\r\n")
            while not stop.is_set():
                try:
                    conn.sendall(b"X")
                except OSError:
                    return
                time.sleep(0.1)

    thread = threading.Thread(target=drip, daemon=True)
    thread.start()
    port = server.getsockname()[1]
    started = time.monotonic()
    try:
        with pytest.raises(outbound_http.Unreachable, match=r"no full answer within 1\.5 s"):
            outbound_http.post(f"http://127.0.0.1:{port}/", b"{}", {}, timeout_s=0.5)
    finally:
        stop.set()
        server.close()
    assert time.monotonic() - started < 3
