"""The JSON API: session auth, the pages' access rule, pagination and `since` filtering."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from assistant.models import Meeting
from assistant.services import chat
from assistant.services.transcript import SegmentInput, record_segment

MakeMeeting = Callable[..., Meeting]


def _client(user: User | None = None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def _segments(meeting: Meeting, count: int) -> None:
    for i in range(count):
        record_segment(
            meeting.pk,
            SegmentInput(
                source="native",
                speaker_user_id=7,
                speaker_name="Priya Raman",
                start_ms=i * 1000,
                end_ms=i * 1000 + 900,
                text=f"line {i}",
                language="en",
            ),
        )


def _segments_url(meeting_id: int, **query: Any) -> str:
    url = reverse("api-segment-list", args=[meeting_id])
    if query:
        url += "?" + "&".join(f"{k}={v}" for k, v in query.items())
    return url


@pytest.mark.parametrize("name", ["api-meeting-list", "api-segment-list"])
def test_anonymous_callers_get_401_json_not_a_redirect(
    name: str, make_meeting: MakeMeeting, host: User
) -> None:
    meeting = make_meeting(owner=host)
    url = reverse(name) if name == "api-meeting-list" else _segments_url(meeting.pk)
    response = _client().get(url)
    assert response.status_code == 401
    assert response["Content-Type"] == "application/json"
    assert "error" in response.json()


def test_meeting_list_returns_the_documented_fields(make_meeting: MakeMeeting, host: User) -> None:
    meeting = make_meeting(owner=host, topic="Standup", state=Meeting.State.LIVE)
    body = _client(host).get(reverse("api-meeting-list")).json()
    assert body["next"] is None
    assert body["results"] == [
        {
            "id": meeting.pk,
            "topic": "Standup",
            "state": "live",
            "product": "meeting",
            "zoom_id": meeting.zoom_id,
            "rtms_stream_id": meeting.rtms_stream_id,
            "started_at": None,
            "ended_at": None,
            "created_at": meeting.created_at.isoformat(),
        }
    ]


def test_meeting_list_holds_only_the_users_meetings(
    make_meeting: MakeMeeting, host: User, outsider: User
) -> None:
    make_meeting(owner=host)
    assert _client(outsider).get(reverse("api-meeting-list")).json()["results"] == []


def test_staff_lists_every_meeting(
    make_meeting: MakeMeeting, host: User, coworker: User, admin_user: User
) -> None:
    make_meeting(owner=host)
    make_meeting(owner=coworker)
    assert len(_client(admin_user).get(reverse("api-meeting-list")).json()["results"]) == 2


def test_meeting_list_pages_by_50_with_a_next_link(make_meeting: MakeMeeting, host: User) -> None:
    ids = [make_meeting(owner=host).pk for _ in range(120)]
    client = _client(host)
    seen: list[int] = []
    url: str | None = reverse("api-meeting-list")
    pages = 0
    while url:
        body = client.get(url).json()
        assert len(body["results"]) <= 50
        seen += [m["id"] for m in body["results"]]
        url = body["next"]
        pages += 1
    assert pages == 3
    assert seen == sorted(ids, reverse=True)


def test_meeting_list_filters_by_state_across_pages(make_meeting: MakeMeeting, host: User) -> None:
    live = [make_meeting(owner=host, state=Meeting.State.LIVE).pk for _ in range(55)]
    for _ in range(10):
        make_meeting(owner=host, state=Meeting.State.ENDED)
    client = _client(host)
    first = client.get(reverse("api-meeting-list") + "?state=live").json()
    assert "state=live" in first["next"]
    second = client.get(first["next"]).json()
    got = [m["id"] for m in first["results"] + second["results"]]
    assert got == sorted(live, reverse=True)
    assert second["next"] is None


@pytest.mark.parametrize("query", ["state=nonsense", "cursor=abc", "cursor=0"])
def test_meeting_list_rejects_bad_parameters_with_a_reason(query: str, host: User) -> None:
    response = _client(host).get(reverse("api-meeting-list") + "?" + query)
    assert response.status_code == 400
    assert response.json()["error"]


def test_segments_come_in_seq_order_with_the_documented_fields(
    make_meeting: MakeMeeting, host: User
) -> None:
    meeting = make_meeting(owner=host)
    _segments(meeting, 3)
    body = _client(host).get(_segments_url(meeting.pk)).json()
    assert body["next_since"] is None
    assert [s["text"] for s in body["results"]] == ["line 0", "line 1", "line 2"]
    assert body["results"][0] == {
        "seq": 1,
        "speaker": "Priya Raman",
        "speaker_user_id": 7,
        "start_ms": 0,
        "end_ms": 900,
        "text": "line 0",
        "source": "native",
        "final": True,
        "language": "en",
    }


def test_segments_since_returns_only_later_segments(make_meeting: MakeMeeting, host: User) -> None:
    meeting = make_meeting(owner=host)
    _segments(meeting, 2)
    chat.record_chat(meeting.pk, 1, "Eve", 0, "hello")  # takes seq 3: seqs are shared
    record_segment(meeting.pk, SegmentInput("native", 7, "Priya", 5000, 5900, "after chat"))
    body = _client(host).get(_segments_url(meeting.pk, since=2)).json()
    assert [(s["seq"], s["text"]) for s in body["results"]] == [(4, "after chat")]


def test_segments_limit_and_next_since_walk_the_whole_transcript(
    make_meeting: MakeMeeting, host: User
) -> None:
    meeting = make_meeting(owner=host)
    _segments(meeting, 25)
    client = _client(host)
    seqs: list[int] = []
    since: int | None = 0
    while since is not None:
        body = client.get(_segments_url(meeting.pk, since=since, limit=10)).json()
        assert len(body["results"]) <= 10
        seqs += [s["seq"] for s in body["results"]]
        since = body["next_since"]
    assert seqs == list(range(1, 26))


def test_segments_default_limit_is_200(make_meeting: MakeMeeting, host: User) -> None:
    meeting = make_meeting(owner=host)
    _segments(meeting, 201)
    body = _client(host).get(_segments_url(meeting.pk)).json()
    assert len(body["results"]) == 200
    assert body["next_since"] == 200


@pytest.mark.parametrize(
    "query", [{"since": "x"}, {"since": -1}, {"limit": 0}, {"limit": 1001}, {"limit": "many"}]
)
def test_segments_reject_bad_parameters_with_a_reason(
    query: dict[str, Any], make_meeting: MakeMeeting, host: User
) -> None:
    meeting = make_meeting(owner=host)
    response = _client(host).get(_segments_url(meeting.pk, **query))
    assert response.status_code == 400
    assert next(iter(query)) in response.json()["error"]


def test_outsider_gets_404_for_another_hosts_segments(
    make_meeting: MakeMeeting, host: User, outsider: User
) -> None:
    meeting = make_meeting(owner=host)
    _segments(meeting, 1)
    response = _client(outsider).get(_segments_url(meeting.pk))
    assert response.status_code == 404
    assert response.json() == {"error": "No such meeting."}


def test_forbidden_and_missing_meetings_answer_alike(
    make_meeting: MakeMeeting, host: User, outsider: User
) -> None:
    meeting = make_meeting(owner=host)
    client = _client(outsider)
    forbidden = client.get(_segments_url(meeting.pk))
    missing = client.get(_segments_url(meeting.pk + 1000))
    assert (forbidden.status_code, forbidden.json()) == (missing.status_code, missing.json())


def test_staff_reads_any_meetings_segments(
    make_meeting: MakeMeeting, host: User, admin_user: User
) -> None:
    meeting = make_meeting(owner=host)
    _segments(meeting, 2)
    assert len(_client(admin_user).get(_segments_url(meeting.pk)).json()["results"]) == 2


@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_api_allows_only_get(method: str, host: User) -> None:
    response = getattr(_client(host), method)(reverse("api-meeting-list"))
    assert response.status_code == 405
    assert response["Allow"] == "GET"
    assert "error" in response.json()


def test_api_responses_are_not_cached(host: User) -> None:
    response = _client(host).get(reverse("api-meeting-list"))
    assert "no-store" in response["Cache-Control"]
