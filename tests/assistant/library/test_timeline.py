"""The finished meeting's timeline: each turn drawn over its real duration, moments with a clock."""

from __future__ import annotations

import re

from django.contrib.auth.models import User
from django.test import Client

from assistant.models import Participant
from assistant.views import charts
from rtms_ingest.simulator.fixture import sample_meeting
from tests.assistant.library.conftest import STANDUP, Line, MakeFinished

WALL_CLOCK_START = 1_767_225_600_000  # a stream whose timestamps are Unix ms, as Zoom's are


def _lane(result: charts.Charts | None, name: str) -> charts.Lane:
    assert result is not None
    return next(lane for lane in result.lanes if lane.name == name)


def _widths(lane: charts.Lane) -> list[float]:
    return [float(width) for _, width in lane.rects]


def test_a_ten_second_turn_is_drawn_ten_times_as_wide_as_a_one_second_turn(
    make_finished: MakeFinished, host: User
) -> None:
    lines: list[Line] = [
        ("Priya Raman", 0, 1_000, "Short."),
        ("Tom Okafor", 2_000, 8_000, "Something in between."),
        ("Priya Raman", 10_000, 20_000, "A long explanation of the rollback plan."),
    ]
    meeting = make_finished(host, lines=lines)
    short, long = _widths(_lane(charts.meeting_charts(meeting.pk, 0), "Priya Raman"))
    assert short == 50.0 and long == 500.0  # 1 s and 10 s of a 20 s timeline 1000 units wide


def test_each_turn_starts_where_it_was_said(make_finished: MakeFinished, host: User) -> None:
    meeting = make_finished(host)
    result = charts.meeting_charts(meeting.pk, 0)
    start, end = STANDUP[0][1], max(line[2] for line in STANDUP)
    for name in {line[0] for line in STANDUP}:
        expected = [
            (1000 * (s - start) / (end - start), 1000 * (e - s) / (end - start))
            for speaker, s, e, _ in STANDUP
            if speaker == name
        ]
        drawn = [(float(x), float(w)) for x, w in _lane(result, name).rects]
        assert len(drawn) == len(expected)
        for (x, w), (ex, ew) in zip(drawn, expected, strict=True):
            assert abs(x - ex) < 0.1 and abs(w - ew) < 0.1, (name, drawn, expected)


def test_a_one_word_turn_in_a_long_meeting_stays_visible(
    make_finished: MakeFinished, host: User
) -> None:
    lines: list[Line] = [
        ("Priya Raman", 0, 3_600_000, "An hour-long monologue."),
        ("Tom Okafor", 1_800_000, 1_800_300, "Yes."),
    ]
    meeting = make_finished(host, lines=lines)
    assert _widths(_lane(charts.meeting_charts(meeting.pk, 0), "Tom Okafor")) == [
        charts.MIN_TURN_WIDTH
    ]


def test_priyas_lane_covers_her_share_of_the_sample_meeting(
    make_finished: MakeFinished, host: User
) -> None:
    recorded = sample_meeting()
    names = {p.user_id: p.user_name for p in recorded.participants}
    lines: list[Line] = [
        (names[u.user_id], round(u.start_s * 1000), round(u.end_s * 1000), u.text)
        for u in recorded.utterances
    ]
    meeting = make_finished(host, lines=lines)
    result = charts.meeting_charts(meeting.pk, 0)
    assert result is not None
    bar = next(b for b in result.bars if b.name == "Priya Raman")
    assert round(bar.percent) == 53
    span = max(e for _, _, e, _ in lines) - min(s for _, s, _, _ in lines)
    covered = sum(_widths(_lane(result, "Priya Raman"))) / charts.TIMELINE_WIDTH
    assert abs(covered - bar.total_ms / span) < 0.01  # her turns, drawn end to end: ~46 %


def test_a_join_before_the_first_word_shows_00_00(make_finished: MakeFinished, host: User) -> None:
    lines = [(name, WALL_CLOCK_START + s, WALL_CLOCK_START + e, t) for name, s, e, t in STANDUP]
    meeting = make_finished(host, lines=lines)
    Participant.objects.create(
        meeting=meeting, zoom_user_id=1, name="Zoë Müller", joined_at_ms=WALL_CLOCK_START
    )
    client = Client()
    client.force_login(host)
    html = client.get(f"/meetings/{meeting.pk}/").content.decode()
    shown = re.search(
        r'<span class="moment-clock">([^<]*)</span>\s*<span class="moment-label">Zoë Müller joined',
        html,
    )
    assert shown is not None and shown.group(1) == "00:00"
    result = charts.meeting_charts(meeting.pk, WALL_CLOCK_START + STANDUP[0][1])
    assert result is not None
    joined = next(m for m in result.marks if m.label == "Zoë Müller joined")
    assert (joined.clock, joined.x) == ("00:00", "0.0")
