"""A host adds and removes action items and removes decisions; later updates keep the edits."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.contrib.auth.models import User
from django.test import Client
from pytest_django.fixtures import Settings

from assistant import events
from assistant.models import ActionItem, Decision, LiveEvent, Meeting, MeetingNotes
from assistant.services.notes import updates
from assistant.services.transcript import record_segment
from tests.assistant.notes.conftest import PlaySample, sample_inputs
from tests.assistant.zoomapp.contexts import panel_client

pytestmark = pytest.mark.django_db

# The sample up to Björn's "I'll share the rollback plan for the payment job by Wednesday."
FIRST_PART = 13
NEW_ITEM = {"text": "Send the QA build to support", "owner": "Priya Raman", "due": "2024-03-13"}


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


def _add(client: Client, meeting: Meeting, body: Any) -> Any:
    return client.post(
        f"/api/meetings/{meeting.pk}/action-items/",
        json.dumps(body),
        content_type="application/json",
    )


def _item(meeting: Meeting, words: str) -> ActionItem:
    item = ActionItem.objects.filter(meeting=meeting, text__icontains=words).first()
    assert item is not None, f"no action item with {words!r}"
    return item


def _decision(meeting: Meeting) -> Decision:
    decision = Decision.objects.filter(meeting=meeting).first()
    assert decision is not None
    return decision


def _pushed(meeting: Meeting) -> dict[str, Any]:
    """The last notes event the meeting's viewers were sent."""
    event = LiveEvent.objects.filter(meeting=meeting, type=events.NOTES).order_by("seq").last()
    assert event is not None
    payload: dict[str, Any] = event.payload
    return payload


def test_the_host_adds_an_action_item_the_notes_missed(noted: Meeting, host: User) -> None:
    response = _add(_client(host), noted, NEW_ITEM)
    assert response.status_code == 201
    body = response.json()
    assert body == {
        "id": body["id"],
        "text": NEW_ITEM["text"],
        "owner": "Priya Raman",
        "due": "2024-03-13",
        "done": False,
        "segment_ids": [],
    }
    row = ActionItem.objects.get(pk=body["id"], meeting=noted)
    assert (row.edited_by_host, row.edited_by_id) == (True, host.pk)
    assert NEW_ITEM["text"] in [a["text"] for a in _pushed(noted)["action_items"]]


def test_an_item_needs_only_its_text_and_a_due_date_may_be_said(noted: Meeting, host: User) -> None:
    response = _add(_client(host), noted, {"text": "Order cake", "due": "next Friday"})
    assert response.status_code == 201
    row = ActionItem.objects.get(pk=response.json()["id"])
    assert (row.owner, row.due_text) == ("", "next Friday")
    assert row.due_date is not None


def test_the_host_deletes_a_wrong_action_item(noted: Meeting, host: User) -> None:
    wrong = _item(noted, "rollback plan")
    response = _client(host).delete(f"/api/action-items/{wrong.pk}/")
    assert response.status_code == 204
    assert not ActionItem.objects.filter(pk=wrong.pk).exists()
    assert "rollback plan" not in json.dumps(_pushed(noted)["action_items"])
    assert _client(host).delete(f"/api/action-items/{wrong.pk}/").status_code == 404


def test_the_host_deletes_a_decision(noted: Meeting, host: User) -> None:
    decision = _decision(noted)
    response = _client(host).delete(f"/api/decisions/{decision.pk}/")
    assert response.status_code == 204
    assert not Decision.objects.filter(meeting=noted).exists()
    assert _pushed(noted)["decisions"] == []


def test_edits_survive_the_rolling_and_the_final_notes(play_sample: PlaySample, host: User) -> None:
    meeting = play_sample(limit=FIRST_PART)
    updates.update(meeting.pk)
    client = _client(host)
    wrong = _item(meeting, "rollback plan")
    assert client.delete(f"/api/action-items/{wrong.pk}/").status_code == 204
    added = _add(client, meeting, NEW_ITEM).json()
    decision = _decision(meeting)
    wording = "Ship 2.4 on Thursday 14 March; offline mode waits for 2.5."
    patched = client.patch(
        f"/api/decisions/{decision.pk}/", json.dumps({"text": wording}), "application/json"
    )
    assert patched.status_code == 200
    # The rest of the meeting (its recap names the rollback plan again), then the final notes,
    # which read the whole transcript from the start.
    for segment in sample_inputs()[FIRST_PART:]:
        record_segment(meeting.pk, segment)
    assert updates.update(meeting.pk)
    assert updates.finish(meeting.pk)
    items = ActionItem.objects.filter(meeting=meeting)
    assert not [a.text for a in items if "rollback" in a.text.lower()]
    kept = items.get(pk=added["id"])
    assert (kept.text, kept.owner, str(kept.due_date)) == (
        NEW_ITEM["text"],
        "Priya Raman",
        "2024-03-13",
    )
    assert [d.text for d in Decision.objects.filter(meeting=meeting)] == [wording]
    assert items.filter(text__icontains="release notes").exists()  # the notes did go on
    notes = _pushed(meeting)
    assert notes["final"] is True
    assert NEW_ITEM["text"] in [a["text"] for a in notes["action_items"]]


def test_a_deleted_decision_does_not_come_back(noted: Meeting, host: User) -> None:
    decision = _decision(noted)
    assert _client(host).delete(f"/api/decisions/{decision.pk}/").status_code == 204
    assert updates.finish(noted.pk)
    assert not Decision.objects.filter(meeting=noted).exists()
    removed = MeetingNotes.objects.get(meeting=noted).removed_items
    assert removed == [
        {"kind": "decision", "key": decision.key, "text": decision.text, "owner": ""}
    ]


def _requests(meeting: Meeting) -> list[Callable[[Client], Any]]:
    """Every edit of the meeting's notes, each as a call on a client."""
    item, decision = _item(meeting, "accessibility"), _decision(meeting)
    return [
        lambda c: _add(c, meeting, NEW_ITEM),
        lambda c: c.delete(f"/api/action-items/{item.pk}/"),
        lambda c: c.patch(f"/api/action-items/{item.pk}/", '{"done": true}', "application/json"),
        lambda c: c.delete(f"/api/decisions/{decision.pk}/"),
        lambda c: c.patch(f"/api/decisions/{decision.pk}/", '{"text": "No."}', "application/json"),
    ]


def _state(meeting: Meeting) -> tuple[int, int, int]:
    """What an edit would change: items, items done, decisions as the notes worded them."""
    return (
        ActionItem.objects.filter(meeting=meeting).count(),
        ActionItem.objects.filter(meeting=meeting, done=True).count(),
        Decision.objects.filter(meeting=meeting, edited_by_host=False).count(),
    )


def test_a_panel_viewer_who_may_see_but_not_edit_gets_403(noted: Meeting, coworker: User) -> None:
    # A signed-in co-worker who opened the Zoom App panel in this meeting: sees it, hosts nothing.
    client = panel_client(mid=noted.zoom_id, uid="zoom-part-1")
    client.force_login(coworker)
    assert client.get(f"/api/meetings/{noted.pk}/notes/").status_code == 200
    before = _state(noted)
    for request in _requests(noted):
        response = request(client)
        assert response.status_code == 403, response.content
        assert "host" in response.json()["error"]
    assert _state(noted) == before


def test_others_get_404_and_the_signed_out_401(noted: Meeting, outsider: User) -> None:
    before = _state(noted)
    for request in _requests(noted):
        assert request(_client(outsider)).status_code == 404
        assert request(_client()).status_code == 401
    assert _state(noted) == before


def test_staff_may_edit_any_meetings_notes(noted: Meeting, admin_user: User) -> None:
    assert _add(_client(admin_user), noted, NEW_ITEM).status_code == 201


def test_edits_without_the_csrf_token_are_refused(noted: Meeting, host: User) -> None:
    before = _state(noted)
    for request in _requests(noted):
        assert request(_client(host, csrf=True)).status_code == 403
    assert _state(noted) == before


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"owner": "Priya Raman"},
        {"text": ""},
        {"text": "   "},
        {"text": "x" * 301},
        {"text": 42},
        {"text": "Ship it", "done": True},
        {"text": "Ship it", "colour": "red"},
        {"text": "Ship it", "owner": "x" * 301},
        ["text"],
    ],
)
def test_an_invalid_new_item_is_a_400_that_says_why(noted: Meeting, host: User, body: Any) -> None:
    count = ActionItem.objects.filter(meeting=noted).count()
    response = _add(_client(host), noted, body)
    assert response.status_code == 400
    assert response.json()["error"]
    assert ActionItem.objects.filter(meeting=noted).count() == count


def test_adding_is_a_post(noted: Meeting, host: User) -> None:
    response = _client(host).get(f"/api/meetings/{noted.pk}/action-items/")
    assert response.status_code == 405
    assert response["Allow"] == "POST"


def test_an_edit_reaches_the_meetings_viewers(
    noted: Meeting, host: User, django_capture_on_commit_callbacks: Any
) -> None:
    layer = get_channel_layer()
    assert layer is not None
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(events.meeting_group(noted.pk), channel)
    wrong = _item(noted, "rollback plan")
    with django_capture_on_commit_callbacks(execute=True):
        assert _client(host).delete(f"/api/action-items/{wrong.pk}/").status_code == 204

    async def receive() -> dict[str, Any]:
        message: dict[str, Any] = await asyncio.wait_for(layer.receive(channel), 10)
        return message

    event = async_to_sync(receive)()["event"]
    assert event["type"] == events.NOTES
    assert wrong.pk not in [a["id"] for a in event["action_items"]]
    assert len(event["action_items"]) == ActionItem.objects.filter(meeting=noted).count()


def test_the_exports_show_the_notes_as_edited(noted: Meeting, host: User) -> None:
    client = _client(host)
    wrong, decision = _item(noted, "rollback plan"), _decision(noted)
    assert client.delete(f"/api/action-items/{wrong.pk}/").status_code == 204
    assert _add(client, noted, NEW_ITEM).status_code == 201
    wording = "Ship on Thursday without offline mode"
    client.patch(
        f"/api/decisions/{decision.pk}/", json.dumps({"text": wording}), "application/json"
    )
    markdown = client.get(f"/meetings/{noted.pk}/export.md").getvalue().decode()
    decisions = markdown[markdown.index("## Decisions") : markdown.index("## Action items")]
    items = markdown[markdown.index("## Action items") : markdown.index("## Transcript")]
    assert wording in decisions
    assert NEW_ITEM["text"] in items and "rollback plan" not in items
    document = json.loads(client.get(f"/meetings/{noted.pk}/export.json").getvalue())
    assert [d["text"] for d in document["decisions"]] == [wording]
    texts = [a["text"] for a in document["action_items"]]
    assert NEW_ITEM["text"] in texts and wrong.text not in texts
