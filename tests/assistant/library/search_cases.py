"""Search behaviours, shared by the PostgreSQL run (test_search.py) and the SQLite FTS5 run."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.test import Client

from assistant.models import Meeting, TranscriptSegment
from assistant.services import search
from assistant.services.access import visible_meetings
from tests.assistant.library.conftest import STANDUP, AddSegments, MakeFinished


def client_of(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def hits(user: User, query: str) -> list[search.Hit]:
    return search.search(visible_meetings(user), query, page=1, size=50).hits


def check_search_returns_only_meetings_the_user_may_see(
    make_finished: MakeFinished, host: User, outsider: User, admin_user: User
) -> None:
    mine = make_finished(host)
    theirs = make_finished(outsider)
    assert {h.meeting_id for h in hits(host, "rollback")} == {mine.pk}
    assert {h.meeting_id for h in hits(outsider, "rollback")} == {theirs.pk}
    assert {h.meeting_id for h in hits(admin_user, "rollback")} == {mine.pk, theirs.pk}


def check_stemmed_words_match_and_rank_with_highlights(
    make_finished: MakeFinished, host: User
) -> None:
    make_finished(host)
    found = hits(host, "shipping releases")
    assert [h.speaker for h in found] == ["Priya Raman"]
    assert "<mark>" in found[0].snippet
    assert found[0].start_ms == 15_000


def check_phrase_and_exclusion(make_finished: MakeFinished, host: User) -> None:
    make_finished(host)
    assert [h.start_ms for h in hits(host, '"rollback plan"')] == [6_500]
    assert hits(host, '"plan rollback"') == []
    release = {h.start_ms for h in hits(host, "release")}
    assert release == {1_000, 15_000, 19_500}
    assert {h.start_ms for h in hits(host, "release -thursday")} == {1_000, 19_500}


def check_snippets_are_escaped(make_finished: MakeFinished, host: User) -> None:
    make_finished(host)
    [hit] = hits(host, "quotes")
    assert "<tags>" not in hit.snippet and "&amp;" in hit.snippet


def check_only_final_segments_of_the_caption_track(
    make_finished: MakeFinished, add_segments: AddSegments, host: User
) -> None:
    meeting = make_finished(host, transcription="both")  # ours (asr) is the caption track
    ours = add_segments(
        meeting,
        [("Tom Okafor", 6_500, 14_000, "a rollback plan for payments")],
        source=TranscriptSegment.Source.ASR,
    )
    add_segments(
        meeting,
        [("Tom Okafor", 40_000, 41_000, "rollback draft")],
        source=TranscriptSegment.Source.ASR,
        final=False,
    )
    assert [h.segment_id for h in hits(host, "rollback")] == [ours[0].pk]


def check_api_shape_and_next_page(
    make_finished: MakeFinished, add_segments: AddSegments, host: User
) -> None:
    meeting = make_finished(host)
    add_segments(
        meeting, [("Ana Lima", 40_000 + n, 40_500 + n, f"budget line {n}") for n in range(25)]
    )
    body = client_of(host).get("/api/search/", {"q": "budget"}).json()
    assert len(body["results"]) == 20
    assert set(body["results"][0]) == {"meeting_id", "segment_id", "speaker", "start_ms", "snippet"}
    assert body["next"].endswith("/api/search/?q=budget&page=2")
    rest = client_of(host).get(body["next"]).json()
    assert len(rest["results"]) == 5 and rest["next"] is None
    ids = {r["segment_id"] for r in body["results"]} | {r["segment_id"] for r in rest["results"]}
    assert len(ids) == 25


def check_segments_stored_later_are_found(
    make_finished: MakeFinished, add_segments: AddSegments, host: User
) -> None:
    meeting: Meeting = make_finished(host, lines=STANDUP[:1])
    [row] = add_segments(meeting, [("Ana Lima", 50_000, 51_000, "kangaroo budget")])
    assert [h.segment_id for h in hits(host, "kangaroo")] == [row.pk]
    row.text = "wombat budget"
    row.save()
    assert hits(host, "kangaroo") == []
    assert [h.segment_id for h in hits(host, "wombat")] == [row.pk]
    row.delete()
    assert hits(host, "wombat") == []


def check_list_text_filter_finds_words_said(make_finished: MakeFinished, host: User) -> None:
    make_finished(host, topic="Weekly")
    make_finished(host, topic="Other", lines=[("Ana Lima", 0, 1000, "Nothing relevant")])
    html = client_of(host).get("/", {"q": "rollback"}).content.decode()
    assert "Weekly" in html and "Other" not in html
    assert "Weekly" in client_of(host).get("/", {"q": "weekly"}).content.decode()  # the topic
