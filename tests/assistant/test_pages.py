"""The dashboard pages: who sees what, in which order, rendered safely, with the right headers."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pytest_django.fixtures import Settings

from assistant.models import Meeting, WebhookDelivery
from assistant.services import chat, participants
from assistant.services.transcript import SegmentInput, record_segment

MakeMeeting = Callable[..., Meeting]


def _client(user: User | None = None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def _unmasked(html: bytes) -> bytes:
    return re.sub(rb'name="csrfmiddlewaretoken" value="[^"]*"', b"", html)


def _segment(meeting: Meeting, text: str, start_ms: int, speaker: str = "Priya Raman") -> None:
    record_segment(
        meeting.pk,
        SegmentInput(
            source="native",
            speaker_user_id=16778240,
            speaker_name=speaker,
            start_ms=start_ms,
            end_ms=start_ms + 2000,
            text=text,
        ),
    )


def _ended(make_meeting: MakeMeeting, owner: User, **fields: object) -> Meeting:
    start = timezone.now() - dt.timedelta(hours=1)
    return make_meeting(
        owner=owner,
        state=Meeting.State.ENDED,
        started_at=start,
        ended_at=start + dt.timedelta(minutes=30),
        **fields,
    )


@pytest.mark.parametrize("name", ["meeting-list", "meeting-detail"])
def test_pages_redirect_anonymous_visitors_to_sign_in(
    name: str, make_meeting: MakeMeeting, host: User
) -> None:
    meeting = make_meeting(owner=host)
    url = reverse(name) if name == "meeting-list" else reverse(name, args=[meeting.pk])
    response = _client().get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_sign_in_page_renders_the_login_form(db: None) -> None:
    response = _client().get(reverse("login"))
    assert response.status_code == 200
    assert b'name="password"' in response.content
    assert b"Meeting Assistant" in response.content


def test_outsider_gets_404_for_another_hosts_meeting(
    make_meeting: MakeMeeting, host: User, outsider: User
) -> None:
    meeting = make_meeting(owner=host, topic="Board offsite")
    response = _client(outsider).get(reverse("meeting-detail", args=[meeting.pk]))
    assert response.status_code == 404
    assert b"Board offsite" not in response.content


def test_missing_and_forbidden_meetings_look_the_same(
    make_meeting: MakeMeeting, host: User, outsider: User
) -> None:
    meeting = make_meeting(owner=host)
    client = _client(outsider)
    forbidden = client.get(reverse("meeting-detail", args=[meeting.pk]))
    missing = client.get(reverse("meeting-detail", args=[meeting.pk + 1000]))
    assert forbidden.status_code == missing.status_code == 404
    # Only the per-render CSRF mask may differ between the two pages.
    assert _unmasked(forbidden.content) == _unmasked(missing.content)


def test_meeting_list_shows_only_the_users_meetings(
    make_meeting: MakeMeeting, host: User, coworker: User
) -> None:
    make_meeting(owner=host, topic="Host standup")
    make_meeting(owner=coworker, topic="Coworker retro")
    response = _client(host).get(reverse("meeting-list"))
    assert b"Host standup" in response.content
    assert b"Coworker retro" not in response.content


def test_staff_sees_every_meeting(
    make_meeting: MakeMeeting, host: User, coworker: User, admin_user: User
) -> None:
    own = make_meeting(owner=host, topic="Host standup")
    make_meeting(owner=coworker, topic="Coworker retro")
    listing = _client(admin_user).get(reverse("meeting-list"))
    assert b"Host standup" in listing.content
    assert b"Coworker retro" in listing.content
    assert _client(admin_user).get(reverse("meeting-detail", args=[own.pk])).status_code == 200


def test_meeting_list_puts_live_meetings_first_then_newest(
    make_meeting: MakeMeeting, host: User
) -> None:
    now = timezone.now()
    _ended(make_meeting, host, topic="Ended recently")
    make_meeting(
        owner=host,
        topic="Ended long ago",
        state=Meeting.State.ENDED,
        started_at=now - dt.timedelta(days=3),
        ended_at=now - dt.timedelta(days=3),
    )
    make_meeting(
        owner=host,
        topic="Live older",
        state=Meeting.State.LIVE,
        started_at=now - dt.timedelta(hours=2),
    )
    make_meeting(owner=host, topic="Live newer", state=Meeting.State.LIVE, started_at=now)
    make_meeting(owner=host, topic="Failed today", state=Meeting.State.FAILED, started_at=now)
    html = _client(host).get(reverse("meeting-list")).content.decode()
    order = ["Live newer", "Live older", "Failed today", "Ended recently", "Ended long ago"]
    positions = [html.index(topic) for topic in order]
    assert positions == sorted(positions)


def test_meeting_list_counts_segments(make_meeting: MakeMeeting, host: User) -> None:
    meeting = make_meeting(owner=host)
    for i in range(3):
        _segment(meeting, f"line {i}", i * 1000)
    html = _client(host).get(reverse("meeting-list")).content.decode()
    assert "<dt>Captions</dt><dd>3</dd>" in html


def test_meeting_list_counts_the_captions_of_the_primary_track_only(
    make_meeting: MakeMeeting, host: User
) -> None:
    meeting = make_meeting(owner=host, transcription="both")
    for i in range(3):
        _segment(meeting, f"line {i}", i * 1000)  # Zoom's
    for i in range(2):
        record_segment(
            meeting.pk, SegmentInput("asr", 16778240, "Priya", i * 1000, i * 1000 + 900, "ours")
        )
    html = _client(host).get(reverse("meeting-list")).content.decode()
    assert "<dt>Captions</dt><dd>3</dd>" in html, "not 5: the two tracks say the same"
    Meeting.objects.filter(pk=meeting.pk).update(notes_track="asr")
    html = _client(host).get(reverse("meeting-list")).content.decode()
    assert "<dt>Captions</dt><dd>2</dd>" in html


def test_sample_button_is_shown_only_to_staff_when_the_demo_is_on(
    settings: Settings, host: User, admin_user: User
) -> None:
    settings.DEMO_SIMULATOR = True
    play = reverse("demo-play").encode()
    assert play in _client(admin_user).get(reverse("meeting-list")).content
    assert play not in _client(host).get(reverse("meeting-list")).content
    settings.DEMO_SIMULATOR = False
    assert play not in _client(admin_user).get(reverse("meeting-list")).content


def test_ended_meeting_page_shows_the_whole_transcript(
    make_meeting: MakeMeeting, host: User
) -> None:
    meeting = _ended(make_meeting, host)
    lines = [f"Utterance number {i} about the release" for i in range(250)]
    for i, text in enumerate(lines):
        _segment(meeting, text, 500 + i * 3000)
    html = _client(host).get(reverse("meeting-detail", args=[meeting.pk])).content.decode()
    positions = [html.index(f">{text}<") for text in lines]
    assert positions == sorted(positions)
    assert "12:27" in html  # the last line starts 747.5 s into the meeting
    assert "live-meeting.js" not in html  # a finished meeting needs no socket


def test_ended_meeting_page_shows_participants_and_chat(
    make_meeting: MakeMeeting, host: User
) -> None:
    meeting = _ended(make_meeting, host)
    participants.record_join(meeting.pk, 1, "Zoë Müller", 0)
    participants.record_join(meeting.pk, 2, "Björn Åkesson", 0)
    participants.record_leave(meeting.pk, 2, "Björn Åkesson", 74_080)
    chat.record_chat(meeting.pk, 1, "Zoë Müller", 5_000, "Slides are in the channel")
    html = _client(host).get(reverse("meeting-detail", args=[meeting.pk])).content.decode()
    assert "Zoë Müller" in html
    assert "Left at 01:14" in html
    assert "Slides are in the channel" in html


def test_live_meeting_page_loads_the_live_script_and_socket_path(
    make_meeting: MakeMeeting, host: User
) -> None:
    meeting = make_meeting(owner=host, state=Meeting.State.LIVE)
    response = _client(host).get(reverse("meeting-detail", args=[meeting.pk]))
    html = response.content.decode()
    nonce = re.search(r"'nonce-([\w-]+)'", response["Content-Security-Policy"])
    assert nonce is not None
    assert f'<script type="module" nonce="{nonce[1]}" src="/static/js/live-meeting.js">' in html
    assert f'data-socket-path="/ws/meetings/{meeting.pk}/"' in html
    assert 'data-live="true"' in html


def test_transcript_and_chat_text_is_escaped(make_meeting: MakeMeeting, host: User) -> None:
    meeting = _ended(make_meeting, host, topic="<b>topic</b>")
    _segment(meeting, "<script>alert(1)</script>", 0, speaker="<img src=x onerror=alert(2)>")
    chat.record_chat(meeting.pk, 1, "Eve", 0, '"><script>alert(3)</script>')
    html = _client(host).get(reverse("meeting-detail", args=[meeting.pk])).content.decode()
    assert "<script>alert" not in html
    assert "<img src=x" not in html
    assert "<b>topic</b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_pages_have_no_inline_scripts_or_styles(make_meeting: MakeMeeting, host: User) -> None:
    live = make_meeting(owner=host, state=Meeting.State.LIVE)
    client = _client(host)
    for url in (reverse("meeting-list"), reverse("meeting-detail", args=[live.pk])):
        response = client.get(url)
        html = response.content.decode()
        nonce = re.search(r"'nonce-([\w-]+)'", response["Content-Security-Policy"])
        assert nonce is not None
        assert "unsafe-inline" not in response["Content-Security-Policy"]
        assert "<style" not in html
        assert " style=" not in html
        assert " onclick=" not in html
        for chunk in html.split("<script")[1:]:
            # Code comes from /static/; a json_script data block is data the browser never runs.
            data_block = re.match(r'\s*id="[\w-]+" type="application/json">', chunk)
            # Code carries this response's nonce (CSP would refuse it otherwise).
            own_code = f'type="module" nonce="{nonce[1]}" src="/static/'
            assert data_block or chunk.lstrip().startswith(own_code)


@pytest.mark.parametrize("path", ["/", "/login/", "/meetings/999999/", "/no-such-page/"])
def test_every_html_response_carries_the_security_headers(
    path: str, host: User, make_meeting: MakeMeeting
) -> None:
    response = _client(host).get(path)
    assert response["Content-Type"].startswith("text/html")
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


def test_meeting_page_is_not_cached(make_meeting: MakeMeeting, host: User) -> None:
    meeting = make_meeting(owner=host)
    response = _client(host).get(reverse("meeting-detail", args=[meeting.pk]))
    assert "no-store" in response["Cache-Control"]


def test_healthz_answers_ok_without_signing_in(db: None) -> None:
    response = _client().get(reverse("healthz"))
    assert response.status_code == 200
    assert response.content == b"ok"


def test_sign_out_is_a_post_form(host: User) -> None:
    html = _client(host).get(reverse("meeting-list")).content.decode()
    assert f'<form method="post" action="{reverse("logout")}">' in html


def test_admin_shows_transcripts_read_only(
    make_meeting: MakeMeeting, host: User, admin_user: User
) -> None:
    meeting = make_meeting(owner=host)
    _segment(meeting, "kept as said", 0)
    segment = meeting.segments.get()
    client = _client(admin_user)
    page = client.get(reverse("admin:assistant_transcriptsegment_change", args=[segment.pk]))
    assert page.status_code == 200
    assert b"kept as said" in page.content
    assert b'name="text"' not in page.content  # shown, not editable
    assert client.get(reverse("admin:assistant_transcriptsegment_add")).status_code == 403


def test_admin_does_not_show_webhook_bodies(admin_user: User) -> None:
    delivery = WebhookDelivery.objects.create(
        dedupe_key="k1",
        event="meeting.rtms_started",
        payload={"server_urls": "wss://secret.example"},
    )
    client = _client(admin_user)
    page = client.get(reverse("admin:assistant_webhookdelivery_change", args=[delivery.pk]))
    assert page.status_code == 200
    assert b"secret.example" not in page.content
