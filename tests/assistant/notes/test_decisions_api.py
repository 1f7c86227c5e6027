"""A host rewords a decision: stored, kept from later updates, pushed live; others cannot."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from pytest_django.fixtures import Settings

from assistant import events
from assistant.models import Decision, LiveEvent, Meeting
from assistant.services.notes import updates
from tests.assistant.notes.conftest import PlaySample

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _extractive(settings: Settings) -> None:
    settings.NOTES_ENGINE = "extractive"
    settings.LLM_BASE_URL = ""


@pytest.fixture
def decided(play_sample: PlaySample) -> Decision:
    """The sample meeting's decision, as its rolling notes found it."""
    meeting = play_sample()
    updates.update(meeting.pk)
    decision = Decision.objects.filter(meeting=meeting).first()
    assert decision is not None
    return decision


def _patch(user: User | None, decision: Decision, body: Any, *, csrf: bool = False) -> Any:
    client = Client(enforce_csrf_checks=csrf)
    if user is not None:
        client.force_login(user)
    return client.patch(
        f"/api/decisions/{decision.pk}/", json.dumps(body), content_type="application/json"
    )


def test_the_host_rewords_a_decision_and_later_updates_keep_the_words(
    decided: Decision, host: User
) -> None:
    wording = "Ship 2.4 on Thursday; offline mode moves to 2.5."
    response = _patch(host, decided, {"text": wording})
    assert response.status_code == 200
    assert response.json() == {
        "id": decided.pk,
        "text": wording,
        "segment_ids": decided.segment_ids,
    }
    pushed = LiveEvent.objects.filter(meeting=decided.meeting, type=events.NOTES).last()
    assert pushed is not None
    assert wording in [d["text"] for d in pushed.payload["decisions"]]
    assert updates.finish(decided.meeting_id)  # the final notes run over everything again
    decided.refresh_from_db()
    assert (decided.text, decided.edited_by_host) == (wording, True)


def test_only_the_host_or_staff_may_reword_it(
    decided: Decision, coworker: User, admin_user: User
) -> None:
    assert _patch(coworker, decided, {"text": "Nope."}).status_code == 404
    assert _patch(None, decided, {"text": "Nope."}).status_code == 401
    assert _patch(admin_user, decided, {"text": "Staff may."}).status_code == 200


def test_a_rewording_without_the_csrf_token_is_refused(decided: Decision, host: User) -> None:
    assert _patch(host, decided, {"text": "Forged."}, csrf=True).status_code == 403
    decided.refresh_from_db()
    assert decided.text != "Forged."


@pytest.mark.parametrize("body", [{}, {"text": ""}, {"text": "x", "done": True}, ["text"]])
def test_a_bad_rewording_is_a_400(decided: Decision, host: User, body: Any) -> None:
    assert _patch(host, decided, body).status_code == 400


def test_a_meeting_host_needs_to_own_it(decided: Decision, host: User) -> None:
    Meeting.objects.filter(pk=decided.meeting_id).update(owner=None)
    assert _patch(host, decided, {"text": "Not mine any more."}).status_code == 404
