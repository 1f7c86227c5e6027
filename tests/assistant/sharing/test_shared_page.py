"""`/shared/<token>/` for someone without an account: the notes and transcript, read-only.

Valid: 200 with the notes and the transcript part, escaped, and nothing else of the meeting (no
chat, participants, scripts, socket, forms or host details). Expired or revoked: 410; unknown:
404; too many from one address: 429. Every answer keeps the token out of Referer headers,
caches, search engines and the logs. Openings are logged, boundedly.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
from collections.abc import Iterator

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone
from pytest_django.fixtures import Settings

from assistant.models import Meeting, MeetingNotes, ShareLink, ShareLinkOpening
from assistant.services import share_links
from assistant.services.notes.templates import NEEDS_AI_MODEL
from assistant.wiring.env import Rate
from tests.assistant.sharing.conftest import fresh_address, reader, revoke, shared_path, signed_in

pytestmark = pytest.mark.django_db


def _token(url: str) -> str:
    return shared_path(url).split("/")[2]


def _expire(url: str) -> None:
    link = ShareLink.objects.get(token_hash=share_links.token_digest(_token(url)))
    ShareLink.objects.filter(pk=link.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))


def test_a_valid_link_shows_the_notes_and_the_transcript(shared_url: str) -> None:
    response = reader().get(shared_path(shared_url))
    assert response.status_code == 200
    page = response.content.decode()
    for text in (
        "Release stand-up",  # the title
        "Release on Thursday after a rollback plan.",  # the summary
        "Rollback plan first",  # a key point
        "Ship the release on Thursday",  # a decision
        "Write the release notes",  # an action item, its owner and due date
        "Ana Lima",
        "by Wednesday",
        "Who tells support?",  # an open question
        "The payment job still needs a rollback plan before Thursday.",  # the transcript
        "Tom Okafor",
    ):
        assert text in page, text
    # The date and length as the meeting page writes them.
    meeting = Meeting.objects.get()
    assert meeting.started_at is not None
    assert timezone.localtime(meeting.started_at).strftime("%d %b %Y").lstrip("0") in page
    assert "30 min" in page


def test_a_template_s_sections_are_shared_too_escaped_with_their_moments(
    finished: Meeting, shared_url: str
) -> None:
    segment = finished.segments.order_by("seq").first()
    assert segment is not None
    line = {"text": "Blockers: the <rollback> plan", "segment_ids": [segment.pk]}
    MeetingNotes.objects.filter(meeting=finished).update(
        template="standup",
        sections=[
            {"heading": "Tom Okafor", "items": [line], "note": "Not said: today."},
            {"heading": "Mood", "items": [], "note": NEEDS_AI_MODEL},
        ],
    )
    page = reader().get(shared_path(shared_url)).content.decode()
    assert '<h3 class="notes-heading">Stand-up</h3>' in page
    assert "Blockers: the &lt;rollback&gt; plan" in page and "<rollback>" not in page
    assert f'href="?at={segment.pk}#seg-{segment.pk}"' in page
    assert f'<p class="section-note needs-model">{NEEDS_AI_MODEL}</p>' in page
    assert '<p class="section-note">Not said: today.</p>' in page


def test_the_shared_page_is_read_only_and_static(shared_url: str) -> None:
    page = reader().get(shared_path(shared_url)).content.decode()
    assert "<script" not in page  # so no live socket, no notes editor, no ask
    assert "/ws/meetings/" not in page
    assert "<form" not in page and "csrfmiddlewaretoken" not in page
    assert "<button" not in page and "<input" not in page
    assert "Ask this meeting" not in page and "/api/" not in page
    assert "export." not in page  # no exports: the page is the shared copy


def test_the_shared_page_shows_nothing_else_of_the_meeting(shared_url: str, host: User) -> None:
    page = reader().get(shared_path(shared_url)).content.decode()
    assert "Checklist" not in page  # the chat
    assert "Participants" not in page and "Until the end" not in page
    # Nothing of the host's account (it has no display name: none is shown) or its links.
    assert ">host<" not in page and "Shared read-only by" not in page
    assert "/meetings/" not in page and "share-links" not in page


def test_the_display_name_of_whoever_shared_it_is_shown(
    finished: Meeting, host: User, shared_url: str
) -> None:
    User.objects.filter(pk=host.pk).update(first_name="Priya", last_name="Raman")
    page = reader().get(shared_path(shared_url)).content.decode()
    assert "Shared read-only by Priya Raman" in page
    assert "host" not in page.split("Shared read-only by")[1].split("<")[0]


def test_transcript_and_notes_text_is_escaped(finished: Meeting, host: User) -> None:
    token = share_links.create_link(finished, 1, host).token
    MeetingNotes.objects.filter(meeting=finished).update(summary="<img src=x onerror=alert(1)>")
    page = reader().get(f"/shared/{token}/").content.decode()
    assert "&lt;tags&gt;" in page and "<tags>" not in page  # said in the meeting (STANDUP)
    assert "&lt;img src=x onerror=alert(1)&gt;" in page and "<img src=x" not in page


def test_a_moment_opens_its_transcript_part_on_the_shared_page(shared_url: str) -> None:
    page = reader().get(shared_path(shared_url)).content.decode()
    decision = ShareLink.objects.get().meeting.decisions.get()
    segment = decision.segment_ids[0]
    assert f'href="?at={segment}#seg-{segment}"' in page
    assert f'id="seg-{segment}"' in page
    moment = reader().get(shared_path(shared_url), {"at": segment})
    assert moment.status_code == 200 and f'id="seg-{segment}"' in moment.content.decode()


def test_an_expired_link_is_gone(shared_url: str) -> None:
    _expire(shared_url)
    response = reader().get(shared_path(shared_url))
    assert response.status_code == 410
    page = response.content.decode()
    assert "This link has expired" in page
    assert "Release stand-up" not in page and "rollback" not in page


def test_a_revoked_link_is_gone(shared_url: str, host: User) -> None:
    revoke(signed_in(host), ShareLink.objects.get().pk)
    response = reader().get(shared_path(shared_url))
    assert response.status_code == 410
    assert "This link was revoked" in response.content.decode()
    assert "Release stand-up" not in response.content.decode()


@pytest.mark.parametrize("token", ["x" * 43, "short", "a" * 500, "%00"])
def test_an_unknown_link_is_not_found(finished: Meeting, token: str) -> None:
    response = reader().get(f"/shared/{token}/")
    assert response.status_code == 404
    assert "no such shared link" in response.content.decode()


def test_a_link_opens_with_get_and_head_only(shared_url: str) -> None:
    assert reader().head(shared_path(shared_url)).status_code == 200
    assert reader().post(shared_path(shared_url)).status_code == 405


@pytest.fixture(params=["valid", "expired", "revoked", "unknown", "limited"])
def any_answer(request: pytest.FixtureRequest, shared_url: str, settings: Settings) -> Client:
    """A shared page's answer of each kind, and the client that got it."""
    client = reader()
    kind = request.param
    if kind == "expired":
        _expire(shared_url)
    elif kind == "revoked":
        ShareLink.objects.update(revoked_at=timezone.now())
    elif kind == "limited":
        settings.SHARE_OPEN_RATE_LIMIT = Rate(uses=1, period_s=3600)
        client.get(shared_path(shared_url))
    path = "/shared/nope/" if kind == "unknown" else shared_path(shared_url)
    client.answer = client.get(path)  # type: ignore[attr-defined]
    expected = {"valid": 200, "expired": 410, "revoked": 410, "unknown": 404, "limited": 429}
    assert client.answer.status_code == expected[kind]  # type: ignore[attr-defined]
    return client


def test_every_answer_keeps_the_token_private(any_answer: Client) -> None:
    response = any_answer.answer  # type: ignore[attr-defined]
    assert response["Referrer-Policy"] == "no-referrer"
    assert "noindex" in response["X-Robots-Tag"]
    cache = {part.strip() for part in response["Cache-Control"].split(",")}
    assert {"private", "no-store"} <= cache
    # The site's CSP: scripts only from our origin (and the page has none).
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert response["X-Content-Type-Options"] == "nosniff"


def test_each_opening_is_logged_with_its_address_and_user_agent(shared_url: str) -> None:
    client = Client(REMOTE_ADDR="203.0.113.7", HTTP_USER_AGENT="A" * 500)
    client.get(shared_path(shared_url))
    client.get(shared_path(shared_url), {"part": "1"})
    link = ShareLink.objects.get()
    assert link.open_count == 2 and link.last_opened_at is not None
    openings = list(link.openings.all())
    assert [o.client_address for o in openings] == ["203.0.113.7"] * 2
    assert all(o.user_agent == "A" * 200 for o in openings)


def test_failed_openings_are_not_logged_as_openings(shared_url: str) -> None:
    _expire(shared_url)
    reader().get(shared_path(shared_url))
    reader().get("/shared/unknown-token/")
    assert not ShareLinkOpening.objects.exists()
    assert ShareLink.objects.get().open_count == 0


def test_the_opening_log_keeps_only_the_newest_openings(
    shared_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(share_links, "OPENINGS_KEPT", 3)
    for n in range(6):
        Client(REMOTE_ADDR=f"192.0.2.{n + 1}").get(shared_path(shared_url))
    link = ShareLink.objects.get()
    assert link.open_count == 6  # every opening is counted ...
    kept = [o.client_address for o in link.openings.all()]
    assert kept == ["192.0.2.6", "192.0.2.5", "192.0.2.4"]  # ... the newest three are kept


def test_openings_are_rate_limited_per_address(shared_url: str, settings: Settings) -> None:
    settings.SHARE_OPEN_RATE_LIMIT = Rate(uses=3, period_s=3600)
    address = fresh_address()
    client = Client(REMOTE_ADDR=address)
    assert [client.get(shared_path(shared_url)).status_code for _ in range(3)] == [200] * 3
    refused = client.get(shared_path(shared_url))
    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= 3600
    assert "Too many requests" in refused.content.decode()
    # Guessing tokens counts too, and the refused opening is not logged.
    assert client.get("/shared/guess/").status_code == 429
    assert ShareLink.objects.get().open_count == 3
    assert Client(REMOTE_ADDR=fresh_address()).get(shared_path(shared_url)).status_code == 200


@pytest.fixture
def console_log() -> Iterator[io.StringIO]:
    """What the configured console handler writes (settings.LOGGING), captured."""
    handler = next(h for h in logging.getLogger().handlers if h.get_name() == "console")
    stream = io.StringIO()
    assert isinstance(handler, logging.StreamHandler)
    previous = handler.setStream(stream)
    yield stream
    handler.setStream(previous)


def test_the_token_never_reaches_the_log(
    shared_url: str, host: User, console_log: io.StringIO, caplog: pytest.LogCaptureFixture
) -> None:
    token = _token(shared_url)
    caplog.set_level(logging.INFO)
    reader().get(shared_path(shared_url))
    link = ShareLink.objects.get()
    revoke(signed_in(host), link.pk)
    reader().get(shared_path(shared_url))  # 410: Django logs the path of a 4xx
    written = console_log.getvalue()
    assert "Gone: /shared/[redacted]/" in written
    assert token not in written
    # Our own lines name the link by id.
    ours = [r.getMessage() for r in caplog.records if r.name.startswith("assistant")]
    assert f"share link {link.pk} opened" in ours
    assert any(f"share link {link.pk} revoked" in line for line in ours)
    assert not any(token in line for line in ours)
