"""POSTs to URLs people typed (delivery targets), kept away from internal services (SSRF).

- https only; credentials in a URL are refused;
- the host name is resolved once, every address it has must be public (not loopback, private,
  link-local, shared, reserved or multicast; IPv4 inside IPv6 is unwrapped), and the connection
  goes to the address that was checked: a second DNS answer (rebinding) is never asked for.
  TLS still verifies the certificate against the host name;
- a redirect is an answer like any other, never followed;
- a timeout on connecting and on each read, and a deadline for the whole exchange (a
  receiver answering a byte at a time is cut off); at most a few KiB of the answer are read.

DELIVERY_ALLOW_PRIVATE_URLS lifts the first two rules (http, any address): tests and a receiver
on the same machine; `check --deploy` warns when it is on (assistant.W032). Nothing here logs a
URL: callers log `host_of(url)`.
"""

from __future__ import annotations

import contextlib
import http.client
import ipaddress
import socket
import ssl
import threading
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from django.conf import settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Enough of an answer to say why it failed ("no_service", a short error), and no more.
ANSWER_EXCERPT_BYTES = 4096
# A whole exchange (connect, send, answer) gets this many times the per-operation timeout.
EXCHANGE_TIMEOUTS = 3
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class Refused(Exception):
    """The URL may not be called: its scheme, its credentials or its addresses. Never retried."""


class Unreachable(Exception):
    """No answer: DNS, connecting, TLS, a timeout or a dropped connection. Worth retrying."""


@dataclass(frozen=True)
class Answer:
    """What the receiver answered."""

    status: int
    excerpt: str
    retry_after_s: float | None
    location: str

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


def host_of(url: str) -> str:
    """The URL's host, lower-cased: all that pages and logs ever show of a target's URL."""
    return (urllib.parse.urlsplit(url.strip()).hostname or "").lower()


def check_url(url: str) -> urllib.parse.SplitResult:
    """The URL split, if its form may be called (Refused otherwise); addresses are checked later.

    Also the check a target's URL passes before it is stored.
    """
    parts = urllib.parse.urlsplit(url.strip())
    schemes = ("https", "http") if settings.DELIVERY_ALLOW_PRIVATE_URLS else ("https",)
    if parts.scheme not in schemes:
        raise Refused(f"only {' or '.join(schemes)} URLs are allowed")
    if not parts.hostname:
        raise Refused("the URL has no host")
    if parts.username is not None or parts.password is not None:
        raise Refused("credentials in a URL are not allowed")
    try:
        parts.port  # noqa: B018 (a port that is not a number raises here)
    except ValueError:
        raise Refused("the URL's port is not a number") from None
    return parts


def is_public(address: IPAddress) -> bool:
    """Whether an address is on the public internet (and so no internal service of ours)."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = [address.ipv4_mapped, address.sixtofour]
        if address.teredo is not None:
            embedded.append(address.teredo[1])
        if address in _NAT64:
            embedded.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
        if any(inner is not None and not is_public(inner) for inner in embedded):
            return False
    return address.is_global and not address.is_multicast


def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address the host name has (a literal address is its own)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise Unreachable(f"{host} does not resolve ({exc})") from None
    # The scope of a link-local IPv6 address ("fe80::1%eth0") is not part of the address.
    return list(dict.fromkeys(ipaddress.ip_address(str(i[4][0]).split("%")[0]) for i in infos))


def post(url: str, body: bytes, headers: Mapping[str, str], *, timeout_s: float) -> Answer:
    """POST the body to the URL under the rules above; Refused or Unreachable when it cannot."""
    parts = check_url(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    address = _checked_address(host, port)
    connection = _connection(parts.scheme, host, port, address, timeout_s)
    path = urllib.parse.urlunsplit(("", "", parts.path or "/", parts.query, ""))
    # Each socket operation has its timeout; this bounds them all together.
    cut = threading.Event()
    deadline = threading.Timer(timeout_s * EXCHANGE_TIMEOUTS, _cut, [connection, cut])
    deadline.start()
    try:
        connection.request("POST", path, body=body, headers=dict(headers))
        response = connection.getresponse()
        excerpt = response.read(ANSWER_EXCERPT_BYTES)
    except (OSError, http.client.HTTPException) as exc:
        if not cut.is_set():
            raise Unreachable(f"{type(exc).__name__}: {exc}"[:200]) from None
    finally:
        deadline.cancel()
        connection.close()
    # A cut exchange may still parse as an answer (what had arrived): it is none.
    if cut.is_set():
        raise Unreachable(f"no full answer within {timeout_s * EXCHANGE_TIMEOUTS:g} s")
    return Answer(
        status=response.status,
        excerpt=excerpt.decode("utf-8", "replace"),
        retry_after_s=_seconds(response.getheader("Retry-After")),
        location=response.getheader("Location") or "",
    )


def _cut(connection: http.client.HTTPConnection, cut: threading.Event) -> None:
    """End an exchange that ran past its deadline (a shutdown wakes a blocked read)."""
    cut.set()
    sock = connection.sock
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


def _checked_address(host: str, port: int) -> str:
    """The address to connect to: the first of the host's, once every one has passed."""
    addresses = resolve(host, port)
    if not addresses:
        raise Unreachable(f"{host} has no address")
    if not settings.DELIVERY_ALLOW_PRIVATE_URLS:
        # One bad address refuses the host: which one a client would pick is not ours to know.
        barred = [a for a in addresses if not is_public(a)]
        if barred:
            raise Refused(f"{host} resolves to a non-public address ({barred[0]})")
    return str(addresses[0])


def _connection(
    scheme: str, host: str, port: int, address: str, timeout_s: float
) -> http.client.HTTPConnection:
    """A connection for `host` (Host header, TLS name) whose socket goes to `address`."""

    def to_checked_address(
        _where: tuple[str, int], timeout: float | None = None, source: object = None
    ) -> socket.socket:
        return socket.create_connection((address, port), timeout_s)

    connection: http.client.HTTPConnection
    if scheme == "https":
        connection = http.client.HTTPSConnection(
            host, port, timeout=timeout_s, context=ssl.create_default_context()
        )
    else:
        connection = http.client.HTTPConnection(host, port, timeout=timeout_s)
    # http.client opens its socket through this attribute (set in its __init__): the TLS layer
    # on top still uses `host` for SNI and the certificate check.
    opener: Callable[..., socket.socket] = to_checked_address
    connection._create_connection = opener  # type: ignore[attr-defined]
    return connection


def _seconds(value: str | None) -> float | None:
    """A Retry-After given in seconds (an HTTP date is ignored: the backoff applies)."""
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None
