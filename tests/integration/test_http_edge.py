"""The web process's HTTP edge on a real daphne, over raw sockets: what it reads, and for how long.

Bodies are capped per path while Twisted reads them (413 before the rest is read, nothing
spooled to disk), a request must arrive within HTTP_READ_TIMEOUT_S of its first byte, and
headers carrying numbers Python's int() refuses are bad requests, not errors.
"""

from __future__ import annotations

import json
import os
import re
import select
import socket
import time
import urllib.request
from collections.abc import Iterator
from http.cookiejar import CookieJar
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from django.conf import settings

from tests.integration.stack import WEBHOOK_SECRET, Stack, running_stack
from tests.integration.test_procfile import url_validation

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(120)]

WEBHOOK = "/webhooks/zoom/"
WEBHOOK_CAP = 64 * 1024  # ZOOM_WEBHOOK_MAX_BODY_BYTES' default
OTHER_CAP = 256 * 1024  # HTTP_MAX_BODY_BYTES, set low for the test
READ_TIMEOUT_S = 2.0


@pytest.fixture(scope="module")
def edge(
    django_db_setup: Any, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Stack, Path]]:
    """daphne serving the project, with its temporary files in a folder of the test's own."""
    db = settings.DATABASES["default"]
    database_url = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    spool = tmp_path_factory.mktemp("spool")
    env = {
        "HTTP_MAX_BODY_BYTES": str(OTHER_CAP),
        "HTTP_READ_TIMEOUT_S": str(READ_TIMEOUT_S),
        "TMPDIR": str(spool),
    }
    log_dir = tmp_path_factory.mktemp("edge")
    with running_stack(
        database_url, settings.REDIS_URL, log_dir, extra_env=env, with_ingest=False
    ) as stack:
        yield stack, spool


def connect(stack: Stack) -> socket.socket:
    port = int(stack.base_url.rsplit(":", 1)[1])
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 32 * 1024)
    return sock


def head(method: str, path: str, *headers: str) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", *headers, "", ""]
    return "\r\n".join(lines).encode("latin-1")


def read_answer(sock: socket.socket, timeout_s: float = 5.0) -> bytes:
    """What the server sends until it closes the connection (or `timeout_s` passes)."""
    sock.settimeout(timeout_s)
    received = b""
    try:
        while chunk := sock.recv(65536):
            received += chunk
    except (TimeoutError, ConnectionResetError):
        pass
    return received


def status_of(answer: bytes) -> int:
    match = re.match(rb"HTTP/1\.1 (\d{3}) ", answer)
    assert match, answer[:200]
    return int(match.group(1))


def spooled_files(pid: int, spool: Path) -> list[str]:
    """The process's open files in the spool folder (Twisted's body files, even unlinked)."""
    targets = []
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            targets.append(os.readlink(fd))
        except OSError:
            continue
    return [target for target in targets if target.startswith(str(spool))]


@pytest.mark.parametrize("expect", [[], ["Expect: 100-continue"]], ids=["plain", "expect"])
def test_a_webhook_declaring_4_gb_is_413_before_any_body_is_sent(
    edge: tuple[Stack, Path], expect: list[str]
) -> None:
    stack, spool = edge
    with connect(stack) as sock:
        sock.sendall(head("POST", WEBHOOK, "Content-Length: 4294967296", *expect))
        started = time.monotonic()
        answer = read_answer(sock)
    assert status_of(answer) == 413  # and no "100 Continue" before it, inviting the body
    assert time.monotonic() - started < 2, "answered at once, not after a timeout"
    assert b"connection: close" in answer.lower()
    assert spooled_files(stack.pids["web"], spool) == []


def test_the_webhook_cap_is_its_own_and_other_paths_take_more(edge: tuple[Stack, Path]) -> None:
    stack, _ = edge
    declared = f"Content-Length: {WEBHOOK_CAP + 1}"
    # Spelt as the app will see it once daphne decodes it: the webhook's path, its cap.
    for spelling in (WEBHOOK, "/webhooks/zoo%6D/", f"{WEBHOOK}?x=1"):
        with connect(stack) as sock:
            sock.sendall(head("POST", spelling, declared))
            assert status_of(read_answer(sock)) == 413, spelling
    with connect(stack) as sock:
        sock.sendall(head("POST", "/login/", declared) + b"x" * (WEBHOOK_CAP + 1))
        # Read whole and handed to Django, which refuses it for want of a CSRF token.
        assert status_of(read_answer(sock, timeout_s=2)) == 403


def test_a_chunked_body_to_any_path_is_cut_at_the_cap_and_never_spooled(
    edge: tuple[Stack, Path],
) -> None:
    stack, spool = edge
    pid = stack.pids["web"]
    chunk = b"x" * 16384
    framed = b"%x\r\n%s\r\n" % (len(chunk), chunk)
    offered = 64 * 1024 * 1024
    sent = 0
    answer = b""
    with connect(stack) as sock:
        sock.sendall(head("POST", "/any/path/", "Transfer-Encoding: chunked") + framed)
        sent += len(chunk)
        time.sleep(0.3)
        assert spooled_files(pid, spool) == [], "a body is kept in memory, bounded"
        sock.setblocking(False)
        deadline = time.monotonic() + 20
        while sent < offered and time.monotonic() < deadline:
            readable, writable, _ = select.select([sock], [sock], [], 1)
            if readable:
                break  # the server answered: it wants no more
            if writable:
                try:
                    sent += sock.send(framed) and len(chunk)
                except (BrokenPipeError, ConnectionResetError):
                    break
        sock.setblocking(True)
        answer = read_answer(sock)
    assert status_of(answer) == 413
    # The server stopped reading at the cap: past it, the client could hand over only what the
    # two sockets' buffers hold (about 80 KiB here), never the 64 MiB it offered.
    assert sent < OTHER_CAP + 2 * 1024 * 1024, sent
    assert spooled_files(pid, spool) == []


@pytest.mark.parametrize(
    "start",
    [b"GET /healthz HTT", head("POST", "/login/", "Content-Length: 100") + b"csrf"],
    ids=["slow-request-line", "slow-body"],
)
def test_a_client_sending_slowly_is_cut_after_the_read_timeout(
    edge: tuple[Stack, Path], start: bytes
) -> None:
    stack, _ = edge
    with connect(stack) as sock:
        sock.sendall(start)
        started = time.monotonic()
        sock.settimeout(0.5)
        answer = b""
        # One byte every half second: Twisted's idle timeout alone would never fire.
        while time.monotonic() - started < 4 * READ_TIMEOUT_S:
            try:
                sock.sendall(b"x")
                answer += sock.recv(65536)
            except TimeoutError:
                continue
            except (BrokenPipeError, ConnectionResetError):
                break
            if answer:
                break
        elapsed = time.monotonic() - started
        answer += read_answer(sock, timeout_s=2)
    assert status_of(answer) == 408
    assert READ_TIMEOUT_S - 0.5 < elapsed < READ_TIMEOUT_S + 2.5


def test_a_webhook_timestamp_of_a_unicode_digit_is_401(edge: tuple[Stack, Path]) -> None:
    stack, _ = edge
    body = b'{"event": "endpoint.url_validation", "payload": {"plainToken": "pt"}}'
    with connect(stack) as sock:
        # b"\xb2" reaches the app as "\u00b2" (headers are Latin-1): isdigit, yet int refuses it.
        sock.sendall(
            head(
                "POST",
                WEBHOOK,
                f"Content-Length: {len(body)}",
                "Content-Type: application/json",
                "x-zm-request-timestamp: \u00b2",
                "x-zm-signature: v0=00",
            )
            + body
        )
        answer = read_answer(sock, timeout_s=3)
    assert status_of(answer) == 401
    assert b"not a unix time" in answer


def test_a_content_length_of_a_unicode_digit_is_400(edge: tuple[Stack, Path]) -> None:
    stack, _ = edge
    for length in (b"\xb2", "\uff11\uff12".encode()):
        with connect(stack) as sock:
            sock.sendall(head("POST", WEBHOOK, "Content-Length: N").replace(b": N", b": " + length))
            assert status_of(read_answer(sock, timeout_s=3)) == 400


def test_a_webhook_and_a_form_post_still_work(edge: tuple[Stack, Path]) -> None:
    stack, _ = edge
    assert url_validation(stack.base_url)["plainToken"] == "pt"
    assert WEBHOOK_SECRET  # the stack's webhook secret signed it
    jar = CookieJar()
    browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    browser.open(f"{stack.base_url}/login/", timeout=5).read()
    csrf = next(cookie.value for cookie in jar if cookie.name == "csrftoken")
    form = urlencode(
        {"csrfmiddlewaretoken": csrf, "username": "nobody", "password": "x" * 50_000}
    ).encode()
    with browser.open(f"{stack.base_url}/login/", data=form, timeout=5) as response:
        page = response.read().decode()
    assert response.status == 200
    assert json.dumps("nobody")[1:-1] in page  # the form came back with its error


def test_a_kept_alive_connection_may_idle_between_requests_longer_than_the_read_timeout(
    edge: tuple[Stack, Path],
) -> None:
    stack, _ = edge
    with connect(stack) as sock:
        sock.sendall(head("GET", "/healthz"))
        assert status_of(sock.recv(65536)) == 200
        time.sleep(READ_TIMEOUT_S + 1)  # the clock starts with a request's first byte
        sock.sendall(head("GET", "/healthz"))
        assert status_of(sock.recv(65536)) == 200


def test_a_websocket_handshake_is_still_handed_to_the_app(edge: tuple[Stack, Path]) -> None:
    stack, _ = edge
    with connect(stack) as sock:
        sock.sendall(
            head(
                "GET",
                "/ws/meetings/1/",
                "Upgrade: websocket",
                "Connection: Upgrade",
                "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
                "Sec-WebSocket-Version: 13",
                f"Origin: {stack.base_url}",
            )
        )
        sock.settimeout(5)
        answer = sock.recv(65536)
    # Nobody is signed in: the consumer refuses the handshake (403), as it did before.
    assert status_of(answer) == 403
