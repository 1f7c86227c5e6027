"""Which body cap a request line's target gets (assistant.wiring.http_limits.BodyLimits)."""

from __future__ import annotations

from django.conf import settings

from assistant.wiring.http_limits import BodyLimits

LIMITS = BodyLimits(1024, {"/webhooks/zoom/": 64})


def test_a_path_with_a_cap_of_its_own_gets_it() -> None:
    assert LIMITS.for_path(b"/webhooks/zoom/") == 64


def test_the_query_string_does_not_change_the_path() -> None:
    assert LIMITS.for_path(b"/webhooks/zoom/?a=b") == 64


def test_a_percent_escaped_spelling_of_the_path_gets_its_cap() -> None:
    assert LIMITS.for_path(b"/webhooks/zoo%6d/") == 64


def test_every_other_path_gets_the_default() -> None:
    assert LIMITS.for_path(b"/webhooks/zoom") == 1024
    assert LIMITS.for_path(b"/\xff") == 1024


def test_the_default_fits_the_largest_body_the_app_takes() -> None:
    from assistant.views import notes_api, zoom_oauth, zoomapp

    largest = max(notes_api.MAX_BODY_BYTES, zoom_oauth.MAX_BODY_BYTES, zoomapp.MAX_BODY_BYTES)
    assert largest <= settings.HTTP_MAX_BODY_BYTES
