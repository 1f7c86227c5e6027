"""Details that read as finished: 24-hour times everywhere, list rows told apart by their start,
the transcript and recording choices in words, the admin's favicon."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.template import Context, Template
from django.test import Client
from django.utils import timezone
from pytest_django.fixtures import Settings

from assistant.models import Meeting

MakeMeeting = Callable[..., Meeting]
FORMAT_JS = Path(__file__).resolve().parents[2] / "static" / "js" / "format.js"
EVENING = dt.datetime(2025, 3, 14, 19, 22, 5, tzinfo=dt.UTC)
ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata"]


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_django_writes_times_on_the_24_hour_clock() -> None:
    rendered = Template("{{ at }}|{{ at|time }}|{{ at|date:'DATETIME_FORMAT' }}").render(
        Context({"at": EVENING})
    )
    assert rendered == "14 Mar 2025, 19:22|19:22|14 Mar 2025, 19:22"


@pytest.mark.skipif(shutil.which("node") is None, reason="needs Node.js to run format.js")
def test_the_browser_writes_wall_clock_times_as_the_server_does() -> None:
    moments = [EVENING, EVENING.replace(hour=0, minute=5), EVENING.replace(hour=12, minute=0)]
    script = (
        f"import {{ wallClock }} from {json.dumps(FORMAT_JS.as_uri())};\n"
        f"const moments = {json.dumps([m.isoformat() for m in moments])};\n"
        f"const zones = {json.dumps(ZONES)};\n"
        "console.log(JSON.stringify(zones.map((z) => moments.map((m) => wallClock(m, z)))));\n"
    )
    node = shutil.which("node")
    assert node is not None
    out = subprocess.run(
        [node, "--input-type=module", "-e", script],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    server = []
    for zone in ZONES:
        with timezone.override(zone):
            server.append(
                [Template("{{ at|date:'H:i' }}").render(Context({"at": m})) for m in moments]
            )
    assert json.loads(out.stdout) == server
    assert server[0] == ["19:22", "00:05", "12:00"]


def test_each_row_of_the_list_says_when_its_meeting_started(
    make_meeting: MakeMeeting, host: User
) -> None:
    for hour in (9, 14):
        make_meeting(
            owner=host,
            topic="Weekly sync",
            state=Meeting.State.ENDED,
            started_at=EVENING.replace(hour=hour, minute=30),
        )
    html = _client(host).get("/").content.decode()
    assert 'class="meeting-when"' in html
    assert "Fri 14 Mar 2025, 09:30" in html and "Fri 14 Mar 2025, 14:30" in html


@pytest.mark.parametrize(
    ("transcription", "record", "labels"),
    [
        ("both", False, ["Default: both tracks", "Default: don't record"]),
        ("native", True, ["Default: Zoom's only", "Default: record"]),
        ("asr", False, ["Default: ours only", "Default: don't record"]),
    ],
)
def test_the_live_choices_name_the_default_in_words(
    make_meeting: MakeMeeting,
    host: User,
    settings: Settings,
    transcription: str,
    record: bool,
    labels: list[str],
) -> None:
    settings.TRANSCRIPTION, settings.RECORD_AUDIO = transcription, record
    meeting = make_meeting(owner=host, state=Meeting.State.LIVE)
    html = _client(host).get(f"/meetings/{meeting.pk}/").content.decode()
    for label in labels:
        assert f'<option value="" selected>{label}</option>'.replace("'", "&#x27;") in html
    assert "Server default" not in html


def test_the_admin_pages_carry_the_site_favicon(admin_user: User) -> None:
    client = _client(admin_user)
    for path in ("/admin/", "/admin/assistant/meeting/", "/admin/auth/user/add/"):
        html = client.get(path).content.decode()
        assert '<link rel="icon" href="/static/img/icon.svg" type="image/svg+xml">' in html, path
