"""Full-text search on PostgreSQL (the SQLite FTS5 path: test_search_sqlite.py)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.contrib.auth.models import User
from django.db import connection

from assistant.models import ChatMessage, TranscriptSegment
from assistant.services import search
from tests.assistant.library import search_cases as cases
from tests.assistant.library.conftest import AddSegments, MakeFinished


def test_runs_on_postgresql(db: None) -> None:
    assert connection.vendor == "postgresql"


def test_search_returns_only_meetings_the_user_may_see(
    make_finished: MakeFinished, host: User, outsider: User, admin_user: User
) -> None:
    cases.check_search_returns_only_meetings_the_user_may_see(
        make_finished, host, outsider, admin_user
    )


def test_stemmed_words_match_and_rank_with_highlights(
    make_finished: MakeFinished, host: User
) -> None:
    cases.check_stemmed_words_match_and_rank_with_highlights(make_finished, host)


def test_phrases_must_match_in_order_and_minus_excludes(
    make_finished: MakeFinished, host: User
) -> None:
    cases.check_phrase_and_exclusion(make_finished, host)


def test_snippets_escape_the_transcript_text(make_finished: MakeFinished, host: User) -> None:
    cases.check_snippets_are_escaped(make_finished, host)


def test_primary_track_hits_come_first_and_the_other_tracks_are_marked(
    make_finished: MakeFinished, add_segments: AddSegments, host: User
) -> None:
    cases.check_primary_track_first_other_track_marked(make_finished, add_segments, host)


def test_the_hosts_choice_of_track_leads_the_search(
    make_finished: MakeFinished, add_segments: AddSegments, host: User
) -> None:
    cases.check_the_hosts_choice_of_track_leads(make_finished, add_segments, host)


def test_chat_is_searched_and_marked_as_chat(make_finished: MakeFinished, host: User) -> None:
    cases.check_chat_is_searched_and_marked(make_finished, host)


def test_the_primary_track_rule_in_sql_is_the_python_rule(
    make_meeting: cases.MakeMeeting,
) -> None:
    cases.check_primary_rule_in_sql_is_the_python_rule(make_meeting)


def test_api_answers_the_promised_shape_and_pages_with_next(
    make_finished: MakeFinished, add_segments: AddSegments, host: User
) -> None:
    cases.check_api_shape_and_next_page(make_finished, add_segments, host)


def test_segments_stored_changed_or_deleted_later_are_searched_as_they_are(
    make_finished: MakeFinished, add_segments: AddSegments, host: User
) -> None:
    cases.check_segments_stored_later_are_found(make_finished, add_segments, host)


def test_api_wants_a_signed_in_user_and_a_query(db: None, host: User) -> None:
    from django.test import Client

    assert Client().get("/api/search/", {"q": "x"}).status_code == 401
    assert cases.client_of(host).get("/api/search/").status_code == 400


def test_search_page_links_each_hit_to_its_moment(make_finished: MakeFinished, host: User) -> None:
    meeting = make_finished(host)
    html = cases.client_of(host).get("/search/", {"q": '"rollback plan"'}).content.decode()
    [hit] = cases.hits(host, '"rollback plan"')
    assert f'href="/meetings/{meeting.pk}/?at={hit.segment_id}#seg-{hit.segment_id}"' in html
    assert "<mark>rollback</mark>" in html
    assert "00:06" in html  # the caption clock of the hit


def test_search_page_groups_hits_by_meeting_told_apart_by_day_and_time(
    make_finished: MakeFinished, host: User
) -> None:
    morning = dt.datetime(2026, 12, 6, 9, 5, tzinfo=dt.UTC)
    first = make_finished(host, topic="Weekly sync", started_at=morning)
    second = make_finished(host, topic="Weekly sync", started_at=morning + dt.timedelta(hours=7))
    html = cases.client_of(host).get("/search/", {"q": "release"}).content.decode()
    groups = re.findall(r'<li class="search-group">(.*?)</ol>\s*</li>', html, re.S)
    assert len(groups) == 2, "one block per meeting, each with its hits"
    heads = [re.search(r"<time[^>]*>([^<]*)</time>", g).group(1) for g in groups]  # type: ignore[union-attr]
    assert heads == ["Sun 6 Dec 2026, 16:05", "Sun 6 Dec 2026, 09:05"]  # newest first
    for group, meeting in zip(groups, (second, first), strict=True):
        assert group.count('class="search-hit"') == 3
        assert group.count(f'href="/meetings/{meeting.pk}/?at=') == 3
        assert group.count(">Zoom captions</span>") == 3


def test_a_chat_hit_links_to_the_message_in_its_moment(
    make_finished: MakeFinished, host: User
) -> None:
    meeting = make_finished(host)
    chat = ChatMessage.objects.get(meeting=meeting)
    near = TranscriptSegment.objects.get(meeting=meeting, start_ms=19_500)  # said at 00:19.5
    html = cases.client_of(host).get("/search/", {"q": "checklist"}).content.decode()
    assert f'href="/meetings/{meeting.pk}/?at={near.pk}#chat-{chat.pk}"' in html
    assert ">Chat</span> · Ana Lima · 00:20" in html
    page = cases.client_of(host).get(f"/meetings/{meeting.pk}/?at={near.pk}").content.decode()
    assert f'id="chat-{chat.pk}"' in page


def test_many_visible_meetings_are_filtered_by_subquery_with_the_same_result(
    make_finished: MakeFinished,
    host: User,
    outsider: User,
    admin_user: User,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(search, "VISIBLE_IDS_INLINE", 0)
    cases.check_search_returns_only_meetings_the_user_may_see(
        make_finished, host, outsider, admin_user
    )


def test_list_text_filter_finds_words_said(make_finished: MakeFinished, host: User) -> None:
    cases.check_list_text_filter_finds_words_said(make_finished, host)


def test_slide_text_is_searched_and_marked(
    make_finished: MakeFinished, host: User, outsider: User
) -> None:
    cases.check_slide_text_is_searched_and_marked(make_finished, host, outsider)
