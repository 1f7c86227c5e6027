"""In the meeting: "catch me up" over a window of it, and "was I mentioned?", with citations."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from pytest_django.fixtures import Settings

from assistant.models import Meeting, Participant
from assistant.services.notes import catch_up, updates
from assistant.services.transcript import SegmentInput, record_segment
from tests.assistant.notes.faulty_llm import faulty_llm, ok
from tests.assistant.zoomapp.contexts import panel_client

pytestmark = pytest.mark.django_db

MINUTE = 60_000
ZOOM_ID = "late+joiner/meeting=="
# (minute, speaker, text): a decision early on, Zoë joining at minute 20, then what she missed.
SAID = [
    (1, "Priya Raman", "Decision: we ship the beta on Thursday."),
    (12, "Björn Larsen", "The payment retries look stable on staging."),
    (22, "Priya Raman", "Zoë, please review the onboarding copy by Friday."),
    (23, "Zoë Martin", "Will do, I'll review it by Friday."),
    (25, "Björn Larsen", "Let's go with the blue theme for the landing page."),
    (26, "Björn Larsen", "I think Zoe had good ideas about the pricing table too."),
]


@pytest.fixture(autouse=True)
def _extractive(settings: Settings) -> None:
    settings.NOTES_ENGINE = "extractive"
    settings.LLM_BASE_URL = ""
    settings.TRANSCRIPTION = "native"


@pytest.fixture
def meeting(make_meeting: Callable[..., Meeting], host: User) -> Meeting:
    meeting = make_meeting(
        owner=host, state=Meeting.State.LIVE, zoom_id=ZOOM_ID, operator_id="zoom-host-1"
    )
    for user_id, name, joined in ((1, "Priya Raman", 0), (2, "Björn Larsen", 0)):
        Participant.objects.create(
            meeting=meeting, zoom_user_id=user_id, name=name, joined_at_ms=joined
        )
    Participant.objects.create(
        meeting=meeting, zoom_user_id=3, name="Zoë Martin", joined_at_ms=20 * MINUTE
    )
    speakers = {"Priya Raman": 1, "Björn Larsen": 2, "Zoë Martin": 3}
    for minute, speaker, text in SAID:
        start = minute * MINUTE
        record_segment(
            meeting.pk,
            SegmentInput("native", speakers[speaker], speaker, start, start + 4000, text),
        )
    updates.update(meeting.pk)  # the rolling notes, which list Zoë's action item
    return meeting


def _post(client: Client, meeting: Meeting, what: str, body: dict[str, Any]) -> Any:
    return client.post(
        f"/api/meetings/{meeting.pk}/{what}/", json.dumps(body), content_type="application/json"
    )


def _signed_in(user: User, *, csrf: bool = False) -> Client:
    client = Client(enforce_csrf_checks=csrf)
    client.force_login(user)
    return client


def test_catching_up_since_joining_reads_only_what_was_said_after(
    meeting: Meeting, host: User
) -> None:
    body = _post(_signed_in(host), meeting, "catch-up", {"name": "Zoë Martin"}).json()

    assert "since you joined" in body["answer"]
    assert "To do: Review the onboarding copy (Zoë Martin), due Friday" in body["answer"]
    assert "Decided: Let's go with the blue theme for the landing page." in body["answer"]
    assert "ship the beta" not in body["answer"]  # said before she joined
    cited = {c["text"] for c in body["citations"]}
    assert "Zoë, please review the onboarding copy by Friday." in cited
    assert all(c["start_ms"] >= 20 * MINUTE for c in body["citations"])


def test_catching_up_on_the_last_minutes_and_a_name_nobody_goes_by(
    meeting: Meeting, host: User
) -> None:
    client = _signed_in(host)

    last = _post(client, meeting, "catch-up", {"minutes": 2}).json()
    unknown = _post(client, meeting, "catch-up", {"name": "Somebody Else"}).json()

    assert "in the last 2 minutes" in last["answer"]
    assert "blue theme" in last["answer"] and "onboarding" not in last["answer"]
    # The latest words are at minute 26: ten minutes back reaches minute 16.
    assert "in the last 10 minutes" in unknown["answer"]
    assert "ship the beta" not in unknown["answer"]


def test_mentions_are_what_others_said_with_the_name_and_the_persons_open_items(
    meeting: Meeting, host: User
) -> None:
    body = _post(_signed_in(host), meeting, "mentions", {"name": "Zoë Martin"}).json()

    assert body["answer"].splitlines() == [
        "Zoë was mentioned 2 times.",
        "Action item for Zoë: Review the onboarding copy, due Friday",
    ]
    assert [c["speaker"] for c in body["citations"]] == ["Priya Raman", "Björn Larsen"]
    assert "Zoe had good ideas" in body["citations"][1]["text"]  # accents folded


def test_nobody_mentioned_says_so(meeting: Meeting, host: User) -> None:
    answer = catch_up.mentions(meeting.pk, "Tomás Ortega")

    assert answer.answer == "Nobody has mentioned Tomás so far."
    assert answer.citations == []


def test_a_panel_participant_may_ask_catch_up_and_look_for_mentions_and_an_outsider_may_not(
    meeting: Meeting, outsider: User
) -> None:
    panel = panel_client(mid=ZOOM_ID)

    assert _post(panel, meeting, "mentions", {"name": "Zoë Martin"}).status_code == 200
    assert _post(panel, meeting, "catch-up", {"minutes": 5}).status_code == 200
    asked = _post(panel, meeting, "ask", {"question": "Which theme for the landing page?"})
    assert asked.status_code == 200 and "blue theme" in asked.json()["citations"][0]["text"]
    assert _post(_signed_in(outsider), meeting, "catch-up", {"minutes": 5}).status_code == 404
    assert _post(Client(), meeting, "mentions", {"name": "Zoë"}).status_code == 401


def test_bad_input_and_a_missing_csrf_token_are_refused(meeting: Meeting, host: User) -> None:
    client = _signed_in(host)

    assert _post(client, meeting, "catch-up", {"minutes": 0}).status_code == 400
    assert _post(client, meeting, "catch-up", {"minutes": "5"}).status_code == 400
    assert _post(client, meeting, "mentions", {}).status_code == 400
    assert _post(client, meeting, "mentions", {"name": "x" * 101}).status_code == 400
    assert client.get(f"/api/meetings/{meeting.pk}/mentions/").status_code == 405
    assert (
        _post(_signed_in(host, csrf=True), meeting, "mentions", {"name": "Zoë"}).status_code == 403
    )


def test_catch_up_and_mentions_share_the_ask_budget(
    meeting: Meeting, host: User, settings: Settings
) -> None:
    settings.ASK_RATE_LIMIT = settings.ASK_RATE_LIMIT._replace(uses=2)
    client = _signed_in(host)

    assert _post(client, meeting, "catch-up", {"minutes": 5}).status_code == 200
    assert _post(client, meeting, "mentions", {"name": "Zoë"}).status_code == 200
    refused = _post(client, meeting, "catch-up", {"minutes": 5})

    assert refused.status_code == 429
    assert int(refused["Retry-After"]) >= 1


def test_with_the_llm_unreachable_the_catch_up_is_the_extract_and_says_so(
    meeting: Meeting, host: User, settings: Settings
) -> None:
    with faulty_llm(ok()) as llm:
        url = llm.url
    settings.NOTES_ENGINE, settings.LLM_BASE_URL = "llm", url  # nothing listens there any more
    settings.LLM_MAX_ATTEMPTS, settings.LLM_BACKOFF_S, settings.LLM_TIMEOUT_S = 1, 0.01, 0.5

    body = _post(_signed_in(host), meeting, "catch-up", {"minutes": 2}).json()

    assert body["answer"].startswith("The language model is unreachable.")
    assert "blue theme" in body["answer"]
    assert body["citations"]
