"""Our own origins: SITE_URL, its loopback aliases, and DJANGO_CSRF_TRUSTED_ORIGINS."""

from __future__ import annotations

import pytest
from django.test import override_settings

from assistant.origins import Origin, is_trusted


def test_default_ports_are_made_explicit() -> None:
    assert Origin.parse("https://Notes.Example.com") == Origin("https", "notes.example.com", 443)
    assert Origin.parse("http://[::1]:8000") == Origin("http", "[::1]", 8000)


@pytest.mark.parametrize("text", ["null", "", "notes.example.com", "ftp://x", "http://:80"])
def test_non_origins_are_none(text: str) -> None:
    assert Origin.parse(text) is None


@override_settings(SITE_URL="https://notes.example.com", CSRF_TRUSTED_ORIGINS=[])
@pytest.mark.parametrize(
    ("origin", "trusted"),
    [
        ("https://notes.example.com", True),
        ("https://notes.example.com:443", True),
        ("http://notes.example.com", False),
        ("https://notes.example.com.evil.example", False),
        ("https://evil.example", False),
        ("https://localhost", False),
    ],
)
def test_site_url_is_trusted_and_nothing_else(origin: str, trusted: bool) -> None:
    assert is_trusted(origin) is trusted


@override_settings(SITE_URL="http://127.0.0.1:8000", CSRF_TRUSTED_ORIGINS=[])
@pytest.mark.parametrize(
    ("origin", "trusted"),
    [
        ("http://localhost:8000", True),
        ("http://[::1]:8000", True),
        ("http://localhost:3000", False),
    ],
)
def test_a_local_site_is_reached_by_any_loopback_name_on_its_port(
    origin: str, trusted: bool
) -> None:
    assert is_trusted(origin) is trusted


@override_settings(SITE_URL="https://a.example", CSRF_TRUSTED_ORIGINS=["https://*.corp.example"])
@pytest.mark.parametrize(
    ("origin", "trusted"),
    [
        ("https://app.corp.example", True),
        ("https://corp.example", False),
        ("http://app.corp.example", False),
        ("https://app.corp.example.evil", False),
    ],
)
def test_csrf_trusted_wildcards_cover_subdomains_only(origin: str, trusted: bool) -> None:
    assert is_trusted(origin) is trusted
