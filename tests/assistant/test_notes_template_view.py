"""The host chooses a meeting's notes template: the endpoint's rules, the rebuild, the page."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from pytest_django.fixtures import Settings

from assistant import jobs
from assistant.models import ActionItem, Decision, Meeting, MeetingNotes, TranscriptSegment
from assistant.services import template_choice
from assistant.services.notes import updates
from tests.assistant.zoomapp.contexts import panel_client

pytestmark = pytest.mark.django_db(transaction=True)

MakeMeeting = Callable[..., Meeting]
STANDUP = [
    ("Nadia Petrova", "Good morning. Ravi, go ahead."),
    ("Ravi Menon", "Yesterday I fixed the crash. Today I'm writing tests. No blockers."),
    ("Helen Brooks", "Yesterday I paired with design. Today I build the screens."),
    ("Helen Brooks", "I'm blocked on the new icons."),
    ("Nadia Petrova", "Helen, please ask design for the icons by Friday."),
]


@pytest.fixture(autouse=True)
def _extractive_in_process(settings: Settings) -> None:
    settings.NOTES_ENGINE = "extractive"
    settings.LLM_BASE_URL = ""
    settings.JOBS_IN_PROCESS = True


def _segments(meeting: Meeting) -> list[TranscriptSegment]:
    return [
        TranscriptSegment.objects.create(
            meeting=meeting, seq=n, source="native", speaker_name=who, start_ms=n * 1000,
            end_ms=n * 1000 + 900, text=text, dedupe_key=f"s{n}",
        )
        for n, (who, text) in enumerate(STANDUP, 1)
    ]  # fmt: skip


@pytest.fixture
def finished(make_meeting: MakeMeeting, host: User) -> Meeting:
    """An ended meeting of the host, "Mobile team sync", with its final (default) notes."""
    meeting = make_meeting(
        owner=host, state=Meeting.State.ENDED, topic="Mobile team sync", zoom_id="tpl+meeting=="
    )
    _segments(meeting)
    updates.finish(meeting.pk)
    return meeting


def _signed_in(user: User, *, csrf: bool = False) -> Client:
    client = Client(enforce_csrf_checks=csrf)
    client.force_login(user)
    return client


def _put(client: Client, meeting: Meeting, body: object) -> tuple[int, dict[str, object]]:
    url = reverse("api-meeting-notes-template", args=[meeting.pk])
    response = client.put(url, json.dumps(body), content_type="application/json")
    return response.status_code, response.json()


def test_the_host_chooses_stand_up_and_the_notes_are_rebuilt_per_person(
    finished: Meeting, host: User
) -> None:
    assert MeetingNotes.objects.get(meeting=finished).sections == []
    status, body = _put(_signed_in(host), finished, {"template": "standup"})
    assert (status, body["template"], body["effective"], body["rebuilding"]) == (
        200,
        "standup",
        {"key": "standup", "name": "Stand-up"},
        True,
    )
    assert body["message"] == (
        "Rebuilding the notes with the “Stand-up” template: they show here when ready."
    )
    jobs.shutdown()
    notes = MeetingNotes.objects.get(meeting=finished)
    assert (notes.template, notes.is_final) == ("standup", True)
    assert [s["heading"] for s in notes.sections] == ["Ravi Menon", "Helen Brooks"]
    assert notes.sections[1]["items"][2]["text"] == "Blockers: I'm blocked on the new icons."


def test_the_rebuild_keeps_the_host_s_edits_and_replaces_the_rest(
    finished: Meeting, host: User
) -> None:
    engine_item = ActionItem.objects.get(meeting=finished)
    edited = ActionItem.objects.create(
        meeting=finished, key="host-1", text="Order new icons", owner="Helen Brooks",
        edited_by_host=True,
    )  # fmt: skip
    reworded = Decision.objects.create(
        meeting=finished, key="d-host", text="Icons first", edited_by_host=True
    )
    template_choice.choose_notes_template(finished.pk, "standup")
    jobs.shutdown()
    texts = set(ActionItem.objects.filter(meeting=finished).values_list("text", flat=True))
    assert edited.text in texts and engine_item.text in texts
    assert not ActionItem.objects.filter(pk=engine_item.pk).exists(), "the engine's item is new"
    assert Decision.objects.filter(pk=reworded.pk).exists()


def test_back_to_by_the_topic(finished: Meeting, host: User) -> None:
    template_choice.choose_notes_template(finished.pk, "standup")
    jobs.shutdown()
    Meeting.objects.filter(pk=finished.pk).update(topic="Mobile 1:1")
    status, body = _put(_signed_in(host), finished, {"template": ""})
    assert (status, body["template"], body["effective"]) == (
        200,
        "",
        {"key": "one_to_one", "name": "One-to-one"},
    )
    jobs.shutdown()
    notes = MeetingNotes.objects.get(meeting=finished)
    assert notes.template == "one_to_one"
    assert [s["heading"] for s in notes.sections] == ["Topics", "Feedback", "Action items"]


def test_choosing_the_template_the_notes_have_rebuilds_nothing(
    finished: Meeting, host: User
) -> None:
    before = MeetingNotes.objects.get(meeting=finished).version
    status, body = _put(_signed_in(host), finished, {"template": "default"})
    assert (status, body["rebuilding"], body["message"]) == (
        200,
        False,
        "The notes use the “Default” template.",
    )
    jobs.shutdown()
    assert MeetingNotes.objects.get(meeting=finished).version == before


def test_a_live_meeting_is_read_again_from_the_start_with_the_template(
    make_meeting: MakeMeeting, host: User, settings: Settings
) -> None:
    settings.NOTES_EXTRACT_UPDATE_SEGMENTS = 1000
    meeting = make_meeting(owner=host, state=Meeting.State.LIVE, topic="Team sync")
    _segments(meeting)
    updates.update(meeting.pk)
    chosen = template_choice.choose_notes_template(meeting.pk, "standup")
    assert chosen.rebuilding
    jobs.shutdown()
    notes = MeetingNotes.objects.get(meeting=meeting)
    assert (notes.template, notes.is_final, notes.covered_seq) == ("standup", False, len(STANDUP))
    assert [s["heading"] for s in notes.sections] == ["Ravi Menon", "Helen Brooks"]


def test_anonymous_callers_are_refused(finished: Meeting) -> None:
    assert _put(Client(), finished, {"template": "standup"})[0] == 401


def test_someone_elses_meeting_is_not_found(finished: Meeting, outsider: User) -> None:
    assert _put(_signed_in(outsider), finished, {"template": "standup"})[0] == 404
    assert Meeting.objects.get(pk=finished.pk).notes_template == ""


def test_a_participant_who_may_see_the_meeting_may_not_choose(
    finished: Meeting, outsider: User
) -> None:
    client = panel_client(mid=finished.zoom_id, uid="zoom-part-1")
    client.force_login(outsider)
    assert _put(client, finished, {"template": "standup"})[0] == 403
    assert Meeting.objects.get(pk=finished.pk).notes_template == ""


def test_staff_may_choose(finished: Meeting, admin_user: User) -> None:
    assert _put(_signed_in(admin_user), finished, {"template": "sales_call"})[0] == 200


def test_a_request_without_the_csrf_token_is_refused(finished: Meeting, host: User) -> None:
    url = reverse("api-meeting-notes-template", args=[finished.pk])
    response = _signed_in(host, csrf=True).put(
        url, json.dumps({"template": "standup"}), content_type="application/json"
    )
    assert response.status_code == 403
    assert Meeting.objects.get(pk=finished.pk).notes_template == ""


@pytest.mark.parametrize(
    "body", [{"template": "retro"}, {"template": None}, {"notes_template": "standup"}, ["x"]]
)
def test_a_bad_choice_is_a_400_that_names_the_templates(
    finished: Meeting, host: User, body: object
) -> None:
    status, answer = _put(_signed_in(host), finished, body)
    assert status == 400 and "standup" in str(answer["error"])
    assert Meeting.objects.get(pk=finished.pk).notes_template == ""


def test_only_put_is_allowed(finished: Meeting, host: User) -> None:
    response = _signed_in(host).get(reverse("api-meeting-notes-template", args=[finished.pk]))
    assert (response.status_code, response["Allow"]) == (405, "PUT")


def _page(client: Client, meeting: Meeting) -> str:
    response = client.get(reverse("meeting-detail", args=[meeting.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_the_host_is_offered_the_templates_in_the_notes_pane(finished: Meeting, host: User) -> None:
    html = _page(_signed_in(host), finished)
    url = reverse("api-meeting-notes-template", args=[finished.pk])
    assert f'name="template" data-url="{url}"' in html
    assert '<option value="" selected>By the topic: Default</option>' in html
    for key, name in (("standup", "Stand-up"), ("sales_call", "Sales call")):
        assert f'<option value="{key}">{name}</option>' in html


def test_a_viewer_who_is_not_the_host_is_not_offered_the_templates(
    finished: Meeting, outsider: User
) -> None:
    client = panel_client(mid=finished.zoom_id, uid="zoom-part-1")
    client.force_login(outsider)
    assert 'name="template"' not in _page(client, finished)
