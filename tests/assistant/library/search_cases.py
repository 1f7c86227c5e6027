"""Search behaviours, shared by the PostgreSQL run (test_search.py) and the SQLite FTS5 run."""

from __future__ import annotations

import itertools
from collections.abc import Callable

from django.contrib.auth.models import User
from django.db import connection
from django.test import Client, override_settings

from assistant.models import ChatMessage, Meeting, Slide, TranscriptSegment
from assistant.services import search, tracks, tracks_sql
from assistant.services.access import visible_meetings
from tests.assistant.library.conftest import STANDUP, AddSegments, MakeFinished

MakeMeeting = Callable[..., Meeting]


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


def _both_tracks(
    make_finished: MakeFinished, add_segments: AddSegments, host: User, **fields: object
) -> tuple[Meeting, list[TranscriptSegment], list[TranscriptSegment]]:
    """A finished meeting with Zoom's transcript (the stand-up) and ours beside it."""
    meeting = make_finished(host, transcription="both", **fields)
    native = list(TranscriptSegment.objects.filter(meeting=meeting).order_by("seq"))
    ours = add_segments(
        meeting,
        [
            ("Tom Okafor", 6_400, 14_600, "The payment job still needs a rollback plan by Mars."),
            ("Ana Lima", 19_400, 21_600, "Agreed. I'll right the release nodes by Wednesday."),
            ("Ana Lima", 40_000, 41_000, "an aside only we heard about the wombat"),
        ],
        source=TranscriptSegment.Source.ASR,
    )
    add_segments(
        meeting,
        [("Tom Okafor", 50_000, 51_000, "rollback draft")],
        source=TranscriptSegment.Source.ASR,
        final=False,
    )
    return meeting, native, ours


def check_primary_track_first_other_track_marked(
    make_finished: MakeFinished, add_segments: AddSegments, host: User
) -> None:
    _, native, ours = _both_tracks(make_finished, add_segments, host)
    # Zoom's track leads: its hits first, marked; ours where Zoom's said nothing matching then.
    found = hits(host, "rollback")
    assert [(h.segment_id, h.source, h.primary) for h in found] == [
        (native[1].pk, "native", True)
    ], "our line at the same moment says it too: shown once, from the primary track"
    [mars] = hits(host, "mars")
    assert (mars.segment_id, mars.source, mars.primary) == (ours[0].pk, "asr", False)
    release = hits(host, "release")
    assert [h.source for h in release] == ["native"] * 3
    wednesday = hits(host, "wednesday")
    assert [h.segment_id for h in wednesday] == [native[3].pk]
    assert [h.segment_id for h in hits(host, "wombat")] == [ours[2].pk]
    assert hits(host, "draft") == [], "drafts of ours are never searched"


def check_the_hosts_choice_of_track_leads(
    make_finished: MakeFinished, add_segments: AddSegments, host: User
) -> None:
    _, _, ours = _both_tracks(make_finished, add_segments, host, notes_track="asr")
    found = hits(host, "rollback")
    assert [(h.segment_id, h.source, h.primary) for h in found] == [(ours[0].pk, "asr", True)]
    # Ours never says "Thursday": Zoom's two lines that do are the other track's, both shown.
    found = hits(host, "thursday")
    assert [(h.source, h.primary) for h in found] == [("native", False)] * 2


def check_chat_is_searched_and_marked(make_finished: MakeFinished, host: User) -> None:
    meeting = make_finished(host)
    chat = ChatMessage.objects.get(meeting=meeting)
    chat.text = "Grafana dashboard: https://grafana.example.com/d/payments-retry"
    chat.save()
    [only] = hits(host, "grafana")
    assert (only.source, only.chat_id, only.segment_id, only.primary) == (
        "chat",
        chat.pk,
        None,
        False,
    )
    assert only.speaker == "Ana Lima" and only.start_ms == 20_000
    assert "<mark>Grafana</mark>" in only.snippet
    # Words inside a link count too (PostgreSQL's parser would keep the link whole).
    assert [h.chat_id for h in hits(host, "retry")] == [chat.pk]
    chat.text = "Checklist: https://example.test/list"
    chat.save()
    assert hits(host, "grafana") == []
    found = hits(host, "checklist")
    assert [h.source for h in found] == ["native", "chat"], "the primary track ranks first"
    chat.delete()
    assert [h.source for h in hits(host, "checklist")] == ["native"]


def check_slide_text_is_searched_and_marked(
    make_finished: MakeFinished, host: User, outsider: User
) -> None:
    meeting = make_finished(host)
    slide = Slide.objects.create(
        meeting=meeting,
        seq=meeting.last_seq + 1,
        shown_at_ms=30_000,
        sharer_user_id=1,
        sharer_name="Ana Lima",
        image_name="slide-1.png",
        thumbnail_name="slide-1-thumb.jpg",
        content_type="image/png",
        width=1280,
        height=720,
        picture_hash="0" * 16,
    )
    assert hits(host, "heron") == [], "no text before OCR read it"
    slide.text = "Release 2.5 plan\nCodename Heron kickoff"
    slide.save()  # OCR fills the text in after the row exists: the index follows
    [only] = hits(host, "herons")
    assert (only.source, only.slide_id, only.chat_id, only.segment_id) == (
        "slide",
        slide.pk,
        None,
        None,
    )
    assert only.speaker == "Ana Lima" and only.start_ms == 30_000
    assert "<mark>Heron</mark>" in only.snippet
    assert hits(outsider, "heron") == []
    assert search.said_in_meeting("heron") is not None
    assert (
        Meeting.objects.filter(pk=meeting.pk)
        .extra(  # noqa: S610
            where=[search.said_in_meeting("heron")[0]],  # type: ignore[index]
            params=list(search.said_in_meeting("heron")[1]),  # type: ignore[index]
        )
        .exists()
    )
    slide.delete()
    assert hits(host, "heron") == []


def check_primary_rule_in_sql_is_the_python_rule(make_meeting: MakeMeeting) -> None:
    """tracks_sql.PRIMARY_SOURCE against tracks.primary_source, every case, two settings."""
    cases = []
    for mode, choice, state, stored in itertools.product(
        ("", "native", "asr", "both"),
        ("", "native", "asr"),
        (Meeting.State.LIVE, Meeting.State.ENDED),
        ((), ("native",), ("asr",), ("native", "asr"), ("asr-draft",)),
    ):
        meeting = make_meeting(transcription=mode, notes_track=choice, state=state)
        for n, source in enumerate(stored):
            TranscriptSegment.objects.create(
                meeting=meeting,
                seq=n + 1,
                source=source.removesuffix("-draft"),
                final=not source.endswith("-draft"),
                start_ms=n,
                end_ms=n + 1,
                text="words",
                dedupe_key=str(n),
            )
        cases.append(meeting)
    for transcription, notes_track in (("native", "native"), ("both", "asr")):
        with override_settings(TRANSCRIPTION=transcription, NOTES_TRACK=notes_track):
            rows, params = tracks_sql.meetings()
            sql = f"SELECT {tracks_sql.PRIMARY_SOURCE} FROM ({rows}) m WHERE m.id = %s"  # noqa: S608
            for meeting in cases:
                with connection.cursor() as cursor:
                    cursor.execute(sql, [*params, meeting.pk])
                    [(in_sql,)] = cursor.fetchall()
                fresh = Meeting.objects.get(pk=meeting.pk)
                assert in_sql == tracks.primary_source(fresh), (
                    transcription,
                    notes_track,
                    fresh.transcription,
                    fresh.notes_track,
                    fresh.state,
                    list(fresh.segments.values_list("source", "final")),
                )


def check_api_shape_and_next_page(
    make_finished: MakeFinished, add_segments: AddSegments, host: User
) -> None:
    meeting = make_finished(host)
    add_segments(
        meeting, [("Ana Lima", 40_000 + n, 40_500 + n, f"budget line {n}") for n in range(25)]
    )
    body = client_of(host).get("/api/search/", {"q": "budget"}).json()
    assert len(body["results"]) == 20
    assert set(body["results"][0]) == {
        "meeting_id",
        "segment_id",
        "chat_id",
        "slide_id",
        "source",
        "primary",
        "speaker",
        "start_ms",
        "snippet",
    }
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
    ChatMessage.objects.filter(meeting__topic="Other").update(text="grafana dashboards")
    html = client_of(host).get("/", {"q": "grafana"}).content.decode()
    assert "Other" in html and "Weekly" not in html, "words typed in the chat count too"
