"""Which RTMS servers the client may connect to: `wss://` to Zoom's hosts, unless told otherwise.

The signaling URL comes from a webhook and the media URLs from the signaling answer: whoever can
sign a webhook or write the command queue chooses them. Without a check the ingest would open a
WebSocket (sending the stream's signature) to any host, internal services included, and over
plain `ws://` would send it and receive the meeting's media in clear text.

Pure: no sockets, no DNS, no Django. `UrlPolicy.check` is called where every socket is opened
(`SocketSettings.open`), so no path (webhook, queued command, rejoin, hand-over, a restart by
Zoom) reaches a socket without it.

The rules:
- scheme `wss`, or `ws` when the policy allows insecure sockets (a local simulator);
- no user info (`wss://zoom.us@evil.example` names the host evil.example), no backslash, space
  or control character anywhere (URL parsers disagree on those);
- the host, compared case-insensitively, matches an entry: a name exactly, or `*.domain` for any
  name strictly below the domain (`a.zoom.us`, `a.b.zoom.us`; not `zoom.us`, `evilzoom.us` nor
  `zoom.us.evil.com`); `*` alone for any name;
- an IP address only when an entry is that address exactly (a wildcard never matches one); a
  "name" whose last label starts with a digit (`127.1`, `0x7f000001`) is an address in disguise
  to a resolver, and is always refused.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

__all__ = ["ZOOM_HOSTS", "UrlPolicy", "UrlRefused", "parse_allowed_hosts"]

# Zoom's own domains: every RTMS server Zoom hands out is named below one of them.
ZOOM_HOSTS: tuple[str, ...] = ("*.zoom.us", "*.zoomgov.com")

_LABEL = re.compile(r"^[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?$")
_UNSAFE = re.compile(r"[\x00-\x20\x7f\\]")


class UrlRefused(Exception):
    """The client refused to connect to a URL; the message names its host, never its path."""


def _is_name(host: str) -> bool:
    """A DNS host name of ASCII labels whose last label starts with a letter.

    A resolver reads `127.1` or `0x7f000001` as an address; no top-level domain starts with a
    digit, so such a "name" is refused rather than matched against a pattern.
    """
    labels = host.split(".")
    return all(_LABEL.match(label) for label in labels) and labels[-1][0].isalpha()


def _address(host: str) -> str | None:
    """The canonical text of an IP literal (brackets already stripped), else None."""
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return None


def parse_allowed_hosts(entries: Iterable[str]) -> tuple[str, ...]:
    """RTMS_ALLOWED_HOSTS entries, normalised (lower case, IPs canonical); ValueError if bad."""
    parsed: list[str] = []
    for raw in entries:
        entry = raw.strip().lower()
        address = _address(entry.strip("[]"))
        if entry == "*" or (address is None and _is_name(entry)):
            parsed.append(entry)
        elif address is not None:
            parsed.append(address)
        elif entry.startswith("*.") and _is_name(entry[2:]):
            parsed.append(entry)
        else:
            raise ValueError(
                f"RTMS_ALLOWED_HOSTS: {raw!r} is neither a host name, an IP address, "
                "'*.domain' nor '*'"
            )
    return tuple(parsed)


@dataclass(frozen=True)
class UrlPolicy:
    """The hosts the client may connect to, and whether plain `ws://` is allowed."""

    allowed_hosts: tuple[str, ...] = ZOOM_HOSTS
    allow_insecure: bool = False

    @classmethod
    def from_settings(cls, entries: Iterable[str], allow_insecure: bool) -> UrlPolicy:
        """A policy from RTMS_ALLOWED_HOSTS-style entries; ValueError if one is malformed."""
        return cls(parse_allowed_hosts(entries), allow_insecure)

    def check(self, url: str) -> None:
        """Return if the client may connect to `url`; UrlRefused (saying why) if not."""
        if _UNSAFE.search(url):
            raise UrlRefused("refused an RTMS URL with spaces, backslashes or control characters")
        try:
            parts = urlsplit(url)
            _ = parts.port  # a bad port raises here
        except ValueError:
            raise UrlRefused("refused an RTMS URL that does not parse") from None
        scheme = parts.scheme.lower()
        host = (parts.hostname or "").lower()
        where = f"{scheme}://{host or '?'}"
        if "@" in parts.netloc:
            raise UrlRefused(f"refused {where}: the URL carries user info")
        if scheme not in ("wss", "ws"):
            raise UrlRefused(f"refused {where}: not a WebSocket URL (wss://)")
        if scheme == "ws" and not self.allow_insecure:
            raise UrlRefused(
                f"refused {where}: plain ws:// (unencrypted); RTMS_ALLOW_INSECURE_WS is off"
            )
        if not host:
            raise UrlRefused(f"refused {where}: no host")
        if not self.allows_host(host):
            raise UrlRefused(f"refused {where}: not an allowed RTMS host (RTMS_ALLOWED_HOSTS)")

    def allows_host(self, host: str) -> bool:
        """Whether `host` (as urlsplit's `hostname` gives it: lower case, no brackets) matches."""
        host = host.lower()
        address = _address(host)
        if address is not None:
            return address in self.allowed_hosts
        if not _is_name(host):
            return False
        for entry in self.allowed_hosts:
            if entry in ("*", host):
                return True
            # "*.zoom.us" -> ".zoom.us": a whole label or more in front, never a bare suffix.
            if entry.startswith("*.") and host.endswith(entry[1:]):
                return True
        return False
