"""The URL policy: only wss:// to Zoom's hosts by default; names, patterns and addresses exactly."""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

# Imported now, not when from_regex first draws inside a test: Python 3.11.7 can fail to
# compile a module imported deep in the stack ("AST constructor recursion depth mismatch",
# CPython gh-106905, fixed in 3.11.8), and pytest compiles this plugin's modules on import.
import hypothesis.strategies._internal.regex  # noqa: F401
import pytest
from hypothesis import given
from hypothesis import strategies as st

from rtms_ingest.client import (
    RtmsCredentials,
    RtmsStreamClient,
    StreamTarget,
    UrlPolicy,
    UrlRefused,
)
from rtms_ingest.client.sink import IgnoringSink
from rtms_ingest.client.url_policy import parse_allowed_hosts
from tests.rtms_ingest.loopback import LOOPBACK_POLICY

ZOOM = UrlPolicy()
LOCAL = UrlPolicy.from_settings(["127.0.0.1", "*.example.test", "sim.local"], True)


def refused(policy: UrlPolicy, url: str) -> bool:
    try:
        policy.check(url)
    except UrlRefused:
        return True
    return False


@pytest.mark.parametrize(
    "url",
    [
        "wss://rtms.zoom.us/signaling/abc?x=1",
        "wss://a.b.zoom.us:443/media",
        "WSS://RTMS-SJC.ZOOM.US/x",
        "wss://rtms.zoomgov.com/x",
    ],
)
def test_zoom_hosts_over_wss_are_allowed_by_default(url: str) -> None:
    ZOOM.check(url)


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("ws://rtms.zoom.us/x", "plain ws://"),
        ("https://rtms.zoom.us/x", "not a WebSocket URL"),
        ("wss://zoom.us/x", "not an allowed RTMS host"),  # the domain itself is not below it
        ("wss://evilzoom.us/x", "not an allowed RTMS host"),
        ("wss://zoom.us.evil.com/x", "not an allowed RTMS host"),
        ("wss://rtms.zoom.us.evil.com/x", "not an allowed RTMS host"),
        ("wss://zoom.us@evil.com/x", "user info"),
        ("wss://rtms.zoom.us:pw@evil.com/x", "user info"),
        ("wss://127.0.0.1/x", "not an allowed RTMS host"),
        ("wss://[::1]/x", "not an allowed RTMS host"),
        ("wss://169.254.169.254/latest", "not an allowed RTMS host"),
        ("wss://localhost/x", "not an allowed RTMS host"),
        ("wss://rtms.zoom.us\\@evil.com/x", "backslashes"),
        ("wss://rtms.zoom.us /x", "spaces"),
        ("wss://rtms.zoom.us:99999/x", "does not parse"),
        ("wss:///x", "no host"),
        ("", "not a WebSocket URL"),
    ],
)
def test_anything_else_is_refused_with_the_reason(url: str, why: str) -> None:
    with pytest.raises(UrlRefused, match=why):
        ZOOM.check(url)


def test_a_listed_address_matches_only_itself() -> None:
    LOCAL.check("ws://127.0.0.1:8765/signaling")
    for other in ("127.0.0.2", "127.1", "2130706433", "0x7f000001", "127.0.0.1.nip.io", "[::1]"):
        assert refused(LOCAL, f"ws://{other}:8765/signaling"), other


def test_names_and_patterns_compare_case_insensitively_and_by_whole_labels() -> None:
    assert not refused(LOCAL, "ws://SIM.Local/x")
    assert not refused(LOCAL, "ws://a.b.Example.TEST/x")
    assert refused(LOCAL, "ws://example.test/x")
    assert refused(LOCAL, "ws://badexample.test/x")
    assert refused(LOCAL, "ws://sim.local.evil.com/x")


def test_a_wildcard_never_matches_an_address() -> None:
    anything = UrlPolicy.from_settings(["*"], False)
    anything.check("wss://whatever.example/x")
    assert refused(anything, "wss://10.0.0.5/x")
    assert refused(anything, "wss://[fd00::1]/x")


def test_the_refusal_names_the_host_never_the_path_or_query() -> None:
    with pytest.raises(UrlRefused) as refusal:
        ZOOM.check("wss://internal.corp/signaling/stream-secret?token=hunter2")
    assert "internal.corp" in str(refusal.value)
    assert "hunter2" not in str(refusal.value) and "stream-secret" not in str(refusal.value)


@pytest.mark.parametrize("entry", ["", "*.", "a*b.com", "http://zoom.us", "*.*.zoom.us", "127.1"])
def test_malformed_entries_are_refused(entry: str) -> None:
    with pytest.raises(ValueError, match="RTMS_ALLOWED_HOSTS"):
        parse_allowed_hosts([entry])


def test_entries_are_normalised() -> None:
    assert parse_allowed_hosts([" *.Zoom.US ", "[::1]", "LOCALHOST"]) == (
        "*.zoom.us",
        "::1",
        "localhost",
    )


label = st.from_regex(r"[a-z][a-z0-9-]{0,10}[a-z0-9]", fullmatch=True)


@given(st.lists(label, min_size=1, max_size=4), st.sampled_from(["zoom.us", "zoomgov.com"]))
def test_any_name_below_zoom_domains_is_allowed(labels: list[str], domain: str) -> None:
    ZOOM.check(f"wss://{'.'.join(labels)}.{domain}/signaling")


@given(st.lists(label, min_size=1, max_size=4), label)
def test_zoom_domains_as_a_prefix_or_glued_on_are_refused(labels: list[str], glued: str) -> None:
    tail = ".".join(labels)
    assert refused(ZOOM, f"wss://zoom.us.{tail}/x")
    assert refused(ZOOM, f"wss://{glued}zoom.us/x")
    assert refused(ZOOM, f"wss://rtms.zoom.us@{tail}.com/x")


@given(st.ip_addresses())
def test_no_ip_address_is_allowed_by_default(address: object) -> None:
    host = f"[{address}]" if ":" in str(address) else str(address)
    assert refused(ZOOM, f"wss://{host}/x")


@given(st.text(max_size=60))
def test_arbitrary_text_is_refused_or_names_an_allowed_host(text: str) -> None:
    try:
        ZOOM.check(text)
    except UrlRefused:
        return
    parts = urlsplit(text)
    assert parts.scheme.lower() == "wss"
    assert (parts.hostname or "").endswith((".zoom.us", ".zoomgov.com"))


async def test_the_client_refuses_before_any_connection_attempt() -> None:
    """The default client policy (Zoom's hosts) refuses a loopback listener without touching it."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listener.setblocking(False)
        port = listener.getsockname()[1]
        target = StreamTarget("meeting", "m==", "s", f"ws://127.0.0.1:{port}/signaling")
        client = RtmsStreamClient(target, RtmsCredentials("id", "secret"), IgnoringSink())
        with pytest.raises(UrlRefused, match=r"127\.0\.0\.1"):
            await client.run()
        with pytest.raises(BlockingIOError):
            listener.accept()  # nobody ever connected


def test_a_restart_to_a_refused_url_is_ignored_and_the_stream_keeps_its_server() -> None:
    url = "ws://127.0.0.1:9/signaling"
    target = StreamTarget("meeting", "m==", "s", url)
    client = RtmsStreamClient(
        target, RtmsCredentials("id", "secret"), IgnoringSink(), url_policy=LOOPBACK_POLICY
    )
    assert client.reconnect("wss://10.0.0.5/signaling") is False
    assert client.signaling_url == url
    assert client.reconnect("ws://127.0.0.1:10/signaling") is True
    assert client.signaling_url == "ws://127.0.0.1:10/signaling"
