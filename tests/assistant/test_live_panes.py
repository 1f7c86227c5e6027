"""The dashboard's meeting page and the Zoom panel show the live panes from one partial each."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from assistant.models import Meeting
from tests.assistant.zoomapp.contexts import panel_client

MakeMeeting = Callable[..., Meeting]

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
PARTIALS = (
    "meetings/status_bar.html",
    "meetings/live_panes.html",
    "meetings/slides_pane.html",
    "meetings/rtms_controls.html",
)
PAGES = ("meetings/detail.html", "zoomapp/panel.html")
DATA_ROLE = re.compile(r'data-role="([^"]+)"')
# The dashboard's own part of the panes: the host's choice of transcript and the link to the
# finished page once the meeting ends (the panel has no link, and offers the choice only to a
# host signed in here: tests/assistant/zoomapp/test_panel_finished.py), and the host's RTMS
# controls through Zoom's REST API (the panel has the Zoom client's own, read through its SDK).
DASHBOARD_ONLY = {
    "transcription-choice",
    "transcription-status",
    "finished-link",
    "rtms-dashboard-controls",
    "rtms-phase",
}


def _roles(text: str) -> set[str]:
    return set(DATA_ROLE.findall(text))


def _partial_roles() -> set[str]:
    return set().union(*(_roles((TEMPLATES / name).read_text()) for name in PARTIALS))


def _live_panes(html: str) -> str:
    """The rendered status bar and panes: from the status bar to the notes pane."""
    start = html.index('class="meeting-status"')
    return html[start : html.index('data-role="ai-notes"', start)]


@pytest.mark.parametrize("page", PAGES)
def test_the_pages_write_no_pane_of_their_own(page: str) -> None:
    copied = _roles((TEMPLATES / page).read_text()) & _partial_roles()
    assert not copied, f"{page} writes hooks the partials hold: {sorted(copied)}"


def test_dashboard_and_panel_render_the_same_live_panes_from_the_partials(
    make_meeting: MakeMeeting, host: User
) -> None:
    meeting = make_meeting(owner=host, state=Meeting.State.LIVE, zoom_id="mEeTiNg+uuid/1==")
    dashboard = Client()
    dashboard.force_login(host)
    detail_html = dashboard.get(reverse("meeting-detail", args=[meeting.pk])).content.decode()
    panel_html = panel_client().get("/zoomapp/panel").content.decode()

    on_dashboard = _roles(_live_panes(detail_html))
    on_panel = _roles(_live_panes(panel_html))

    assert on_dashboard - DASHBOARD_ONLY == on_panel
    assert on_dashboard >= DASHBOARD_ONLY
    assert on_dashboard <= _partial_roles()
    assert {"connection", "captions", "people", "chat"} <= on_panel
