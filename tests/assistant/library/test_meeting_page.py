"""The finished meeting page: talk-time chart and timeline from stored times, parts, moments."""

from __future__ import annotations

import re

from django.contrib.auth.models import User
from django.test import Client

from assistant.models import Meeting, TranscriptSegment
from assistant.views import charts
from tests.assistant.library.conftest import STANDUP, AddSegments, Line, MakeFinished
from tests.assistant.zoomapp.contexts import panel_client


def _page(user: User, meeting: Meeting, query: str = "") -> str:
    client = Client()
    client.force_login(user)
    response = client.get(f"/meetings/{meeting.pk}/{query}")
    assert response.status_code == 200
    return response.content.decode()


def _stored_talk(meeting: Meeting) -> dict[str, int]:
    totals: dict[str, int] = {}
    for s in TranscriptSegment.objects.filter(meeting=meeting, final=True):
        totals[s.speaker_name] = totals.get(s.speaker_name, 0) + s.end_ms - s.start_ms
    return totals


def test_talk_time_chart_matches_the_stored_speaking_times(
    make_finished: MakeFinished, host: User
) -> None:
    meeting = make_finished(host)
    html = _page(host, meeting)
    bars = re.findall(
        r'class="talk-bar" data-speaker="([^"]+)" data-ms="(\d+)" data-percent="([\d.]+)"', html
    )
    stored = _stored_talk(meeting)
    assert {name: int(ms) for name, ms, _ in bars} == stored
    total = sum(stored.values())
    for _, ms, percent in bars:
        assert abs(float(percent) - 100 * int(ms) / total) < 0.01
    assert [int(ms) for _, ms, _ in bars] == sorted(stored.values(), reverse=True)


def test_timeline_has_a_lane_per_speaker_and_the_meetings_moments(
    make_finished: MakeFinished, host: User
) -> None:
    meeting = make_finished(host)
    result = charts.meeting_charts(meeting.pk, 0)
    assert result is not None
    assert {lane.name for lane in result.lanes} == {line[0] for line in STANDUP}
    kinds = [m.kind for m in result.marks]
    assert kinds.count("join") == 3 and "decision" in kinds and "action" in kinds


def test_decisions_and_action_items_link_to_their_moment(
    make_finished: MakeFinished, host: User
) -> None:
    meeting = make_finished(host)
    html = _page(host, meeting)
    decision_segment = TranscriptSegment.objects.get(meeting=meeting, start_ms=15_000)
    link = f"/meetings/{meeting.pk}/?at={decision_segment.pk}#seg-{decision_segment.pk}"
    assert f'href="{link}">Ship the release on Thursday' in html
    assert f'id="seg-{decision_segment.pk}"' in html


def test_a_long_meeting_is_shown_a_part_at_a_time_and_at_opens_the_right_part(
    make_finished: MakeFinished, add_segments: AddSegments, host: User
) -> None:
    hour: list[Line] = [
        ("Ana Lima", n * 60_000, n * 60_000 + 5000, f"minute {n}") for n in range(60)
    ]
    meeting = make_finished(host, lines=hour)
    first = _page(host, meeting)
    assert (
        first.count('<li class="caption') == 15
        and "minute 14" in first
        and "minute 15" not in first
    )
    target = TranscriptSegment.objects.get(meeting=meeting, text="minute 47")
    html = _page(host, meeting, f"?at={target.pk}")
    assert f'id="seg-{target.pk}"' in html
    assert "minute 45" in html and "minute 44" not in html
    assert 'aria-current="page" class="part-current">45:00' in html
    assert "minute 30" in _page(host, meeting, "?part=3")


def test_charts_and_exports_are_offered_on_a_finished_page_only(
    make_finished: MakeFinished, make_meeting: object, host: User
) -> None:
    meeting = make_finished(host)
    html = _page(host, meeting)
    assert f"/meetings/{meeting.pk}/export.vtt" in html and 'data-role="talk-time"' in html
    assert "style=" not in html and "<script>" not in html  # strict CSP: no inline style or code


def _order(html: str, *markers: str) -> list[int]:
    """Where each marker first occurs in the page (every one must)."""
    found = [html.find(marker) for marker in markers]
    assert -1 not in found, dict(zip(markers, found, strict=True))
    return found


def test_a_finished_meeting_shows_its_outcome_then_the_transcript_then_the_charts(
    make_finished: MakeFinished, host: User
) -> None:
    html = _page(host, make_finished(host))
    notes, captions, charts, danger = _order(
        html,
        'data-role="ai-notes"',
        'class="pane pane-captions"',
        'class="pane pane-charts"',
        'class="danger-zone"',
    )
    assert notes < captions < charts < danger


def test_delete_is_not_in_the_export_row_but_in_the_danger_zone(
    make_finished: MakeFinished, host: User
) -> None:
    meeting = make_finished(host)
    html = _page(host, meeting)
    exports = html[html.index('<div class="meeting-actions">') :]
    exports = exports[: exports.index("</div>")]
    assert "JSON" in exports and "delete" not in exports.lower()
    zone = html[html.index('class="danger-zone"') :]
    assert f'action="/meetings/{meeting.pk}/delete/"' in zone
    assert "Delete for good" in zone  # the confirmation, as before


def test_who_may_not_delete_sees_no_danger_zone(
    make_finished: MakeFinished, host: User, coworker: User
) -> None:
    meeting = make_finished(host)
    # A signed-in co-worker who opened the Zoom App panel in the meeting may read its page.
    client = panel_client(mid=meeting.zoom_id, uid="zoom-part-1")
    client.force_login(coworker)
    html = client.get(f"/meetings/{meeting.pk}/").content.decode()
    assert 'data-role="ai-notes"' in html and 'data-can-edit="false"' in html
    assert 'class="danger-zone"' not in html
    Meeting.objects.filter(pk=meeting.pk).update(state=Meeting.State.LIVE)
    assert 'class="danger-zone"' not in _page(host, meeting)  # nor while it is live
