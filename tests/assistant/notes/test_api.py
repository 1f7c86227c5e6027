"""The notes API: who may read, edit and ask; the exact shapes; CSRF; retrieval."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from pytest_django.fixtures import Settings

from assistant.models import ActionItem, Meeting
from assistant.services.notes import ask, updates
from tests.assistant.notes.conftest import PlaySample

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _extractive(settings: Settings) -> None:
    settings.NOTES_ENGINE = "extractive"
    settings.LLM_BASE_URL = ""


@pytest.fixture
def noted(play_sample: PlaySample) -> Meeting:
    """The sample meeting with its rolling notes written."""
    meeting = play_sample()
    updates.update(meeting.pk)
    return meeting


def _client(user: User | None = None, *, csrf: bool = False) -> Client:
    client = Client(enforce_csrf_checks=csrf)
    if user is not None:
        client.force_login(user)
    return client


def _patch(client: Client, item: ActionItem, body: dict[str, Any], **extra: Any) -> Any:
    return client.patch(
        f"/api/action-items/{item.pk}/", json.dumps(body), content_type="application/json", **extra
    )


def _ask(client: Client, meeting: Meeting, question: str) -> Any:
    return client.post(
        f"/api/meetings/{meeting.pk}/ask/",
        json.dumps({"question": question}),
        content_type="application/json",
    )


def test_notes_have_exactly_the_documented_shape(noted: Meeting, host: User) -> None:
    body = _client(host).get(f"/api/meetings/{noted.pk}/notes/").json()
    assert set(body) == {
        "engine", "summary", "key_points", "decisions", "action_items", "open_questions",
        "template", "sections", "updated_at",
    }  # fmt: skip
    assert body["engine"] == "extractive"
    assert (body["template"], body["sections"]) == ({"key": "default", "name": "Default"}, [])
    assert set(body["decisions"][0]) == {"id", "text", "segment_ids"}
    assert {frozenset(a) for a in body["action_items"]} == {
        frozenset({"id", "text", "owner", "due", "done", "segment_ids"})
    }
    zoe = next(a for a in body["action_items"] if a["owner"].startswith("Zoë"))
    assert zoe["due"] == "2024-03-12"


@pytest.mark.parametrize("who", ["coworker", "outsider"])
def test_notes_of_a_meeting_you_may_not_see_are_not_found(
    noted: Meeting, who: str, request: pytest.FixtureRequest
) -> None:
    user = request.getfixturevalue(who)
    assert _client(user).get(f"/api/meetings/{noted.pk}/notes/").status_code == 404
    item = ActionItem.objects.filter(meeting=noted).first()
    assert item is not None
    assert _patch(_client(user), item, {"done": True}).status_code == 404
    assert _ask(_client(user), noted, "when do we ship?").status_code == 404


def test_signed_out_callers_get_401(noted: Meeting) -> None:
    assert _client().get(f"/api/meetings/{noted.pk}/notes/").status_code == 401


def test_the_host_ticks_an_item_done_and_edits_its_owner(noted: Meeting, host: User) -> None:
    item = ActionItem.objects.filter(meeting=noted).first()
    assert item is not None
    response = _patch(_client(host), item, {"done": True, "owner": "Priya Raman"})
    assert response.status_code == 200
    assert response.json()["done"] is True
    item.refresh_from_db()
    assert (item.done, item.owner, item.edited_by_host) == (True, "Priya Raman", True)


def test_staff_may_edit_any_item(noted: Meeting, admin_user: User) -> None:
    item = ActionItem.objects.filter(meeting=noted).first()
    assert item is not None
    assert _patch(_client(admin_user), item, {"due": "2024-03-22"}).json()["due"] == "2024-03-22"


def test_an_edit_without_the_csrf_token_is_refused(noted: Meeting, host: User) -> None:
    item = ActionItem.objects.filter(meeting=noted).first()
    assert item is not None
    assert _patch(_client(host, csrf=True), item, {"done": True}).status_code == 403
    item.refresh_from_db()
    assert not item.done


@pytest.mark.parametrize(
    "body", [{"done": "yes"}, {"colour": "red"}, {}, {"text": ""}, {"text": "x" * 301}]
)
def test_an_invalid_edit_is_a_400(noted: Meeting, host: User, body: dict[str, Any]) -> None:
    item = ActionItem.objects.filter(meeting=noted).first()
    assert item is not None
    assert _patch(_client(host), item, body).status_code == 400


def test_ask_quotes_the_segments_that_answer_with_the_extract_label(
    noted: Meeting, host: User
) -> None:
    body = _ask(_client(host), noted, "Who writes the release notes?").json()
    assert set(body) == {"answer", "citations"}
    assert "extract" in body["answer"].lower()
    assert any("release notes" in c["text"] for c in body["citations"])
    assert set(body["citations"][0]) == {"segment_id", "speaker", "start_ms", "text"}


def test_ask_says_so_when_the_transcript_does_not_contain_it(noted: Meeting, host: User) -> None:
    body = _ask(_client(host), noted, "What is the budget for kangaroos?").json()
    assert body == {"answer": ask.NOT_FOUND, "citations": []}


def test_what_did_i_miss_is_answered_from_the_notes(noted: Meeting, host: User) -> None:
    body = _ask(_client(host), noted, "What did I miss?").json()
    assert "Decided: We ship 2.4 on Thursday" in body["answer"]
    assert body["citations"]


def test_postgres_search_and_the_sqlite_ranking_agree_on_the_best_segment(
    noted: Meeting,
) -> None:
    words = ["rollback", "plan"]
    [best_pg, *_] = ask._postgres(noted.pk, words, 3)
    [best_py, *_] = ask._bm25(noted.pk, words, 3)
    assert best_pg.segment_id == best_py.segment_id
    assert "rollback plan for the payment job" in best_py.text
