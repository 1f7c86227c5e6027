"""The search cases on SQLite FTS5; run by test_search_sqlite.py with DATABASE_URL=sqlite:///.

Not collected in the PostgreSQL run (no test_ prefix); skipped anywhere but SQLite.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.db import connection

from tests.assistant.library import search_cases as cases
from tests.assistant.library.conftest import AddSegments, MakeFinished

pytestmark = pytest.mark.skipif(connection.vendor != "sqlite", reason="the SQLite FTS5 path")


def test_fts5_search_returns_only_meetings_the_user_may_see(
    make_finished: MakeFinished, host: User, outsider: User, admin_user: User
) -> None:
    cases.check_search_returns_only_meetings_the_user_may_see(
        make_finished, host, outsider, admin_user
    )


def test_fts5_stems_ranks_and_highlights(make_finished: MakeFinished, host: User) -> None:
    cases.check_stemmed_words_match_and_rank_with_highlights(make_finished, host)


def test_fts5_phrases_and_exclusions(make_finished: MakeFinished, host: User) -> None:
    cases.check_phrase_and_exclusion(make_finished, host)


def test_fts5_snippets_are_escaped(make_finished: MakeFinished, host: User) -> None:
    cases.check_snippets_are_escaped(make_finished, host)


def test_fts5_primary_track_first_other_track_marked(
    make_finished: MakeFinished, add_segments: AddSegments, host: User
) -> None:
    cases.check_primary_track_first_other_track_marked(make_finished, add_segments, host)


def test_fts5_the_hosts_choice_of_track_leads(
    make_finished: MakeFinished, add_segments: AddSegments, host: User
) -> None:
    cases.check_the_hosts_choice_of_track_leads(make_finished, add_segments, host)


def test_fts5_chat_is_searched_and_marked(make_finished: MakeFinished, host: User) -> None:
    cases.check_chat_is_searched_and_marked(make_finished, host)


def test_fts5_the_primary_track_rule_in_sql_is_the_python_rule(
    make_meeting: cases.MakeMeeting,
) -> None:
    cases.check_primary_rule_in_sql_is_the_python_rule(make_meeting)


def test_fts5_api_pages(make_finished: MakeFinished, add_segments: AddSegments, host: User) -> None:
    cases.check_api_shape_and_next_page(make_finished, add_segments, host)


def test_fts5_triggers_follow_inserts_updates_and_deletes(
    make_finished: MakeFinished, add_segments: AddSegments, host: User
) -> None:
    cases.check_segments_stored_later_are_found(make_finished, add_segments, host)


def test_fts5_list_text_filter_finds_words_said(make_finished: MakeFinished, host: User) -> None:
    cases.check_list_text_filter_finds_words_said(make_finished, host)


def test_fts5_slide_text_is_searched_and_marked(
    make_finished: MakeFinished, host: User, outsider: User
) -> None:
    cases.check_slide_text_is_searched_and_marked(make_finished, host, outsider)
