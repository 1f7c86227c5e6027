"""A template's sections wherever the notes go: the API, the live event, exports, Slack, email."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.test import Client
from markdown_it import MarkdownIt
from pytest_django.fixtures import Settings

from assistant.models import Meeting, MeetingNotes, TranscriptSegment
from assistant.services import exports
from assistant.services.deliveries import content, mail, slack
from assistant.services.notes import shapes, updates
from assistant.services.notes.templates import NEEDS_AI_MODEL

pytestmark = pytest.mark.django_db

SCHEMA = Path(__file__).resolve().parents[3] / "docs" / "export-schema.json"
ONE_TO_ONE = [
    ("Aylin Demir", "How did the conference talk go last week?"),
    ("Sam Ortiz", "Really well. I'll send you the <slides> by Friday."),
]


@pytest.fixture(autouse=True)
def _extractive(settings: Settings) -> None:
    settings.NOTES_ENGINE = "extractive"
    settings.LLM_BASE_URL = ""


@pytest.fixture
def one_to_one(make_meeting: Callable[..., Meeting], host: User) -> Meeting:
    """A finished "Aylin / Sam 1:1" (the one-to-one template by its topic), final notes written."""
    meeting = make_meeting(owner=host, state=Meeting.State.ENDED, topic="Aylin / Sam 1:1")
    for n, (who, text) in enumerate(ONE_TO_ONE, 1):
        TranscriptSegment.objects.create(
            meeting=meeting, seq=n, source="native", speaker_name=who, start_ms=n * 1000,
            end_ms=n * 1000 + 900, text=text, dedupe_key=f"s{n}",
        )  # fmt: skip
    updates.finish(meeting.pk)
    return meeting


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_api_names_the_template_and_gives_its_sections(one_to_one: Meeting, host: User) -> None:
    body = _client(host).get(f"/api/meetings/{one_to_one.pk}/notes/").json()
    assert body["template"] == {"key": "one_to_one", "name": "One-to-one"}
    topics, feedback, actions = body["sections"]
    first = one_to_one.segments.get(seq=1).pk
    assert topics == {
        "heading": "Topics",
        "items": [{"text": "Aylin: How did the conference talk go last week?",
                   "segment_ids": [first]}],
        "note": "",
    }  # fmt: skip
    assert feedback == {"heading": "Feedback", "items": [], "note": NEEDS_AI_MODEL}
    assert actions["items"][0]["text"] == "Sam: send you the <slides> by Friday."


def test_before_any_notes_the_api_names_the_template_they_will_have(
    make_meeting: Callable[..., Meeting], host: User
) -> None:
    meeting = make_meeting(owner=host, state=Meeting.State.LIVE, topic="Daily stand-up")
    body = _client(host).get(f"/api/meetings/{meeting.pk}/notes/").json()
    assert (body["template"], body["sections"]) == ({"key": "standup", "name": "Stand-up"}, [])


def test_the_live_event_and_the_page_carry_the_sections(one_to_one: Meeting) -> None:
    payload = shapes.page_notes(one_to_one.pk)
    assert payload is not None
    assert payload["template"]["name"] == "One-to-one"
    assert [s["heading"] for s in payload["sections"]] == ["Topics", "Feedback", "Action items"]


def test_the_json_export_carries_the_template_and_sections_as_its_schema_says(
    one_to_one: Meeting, host: User
) -> None:
    document = json.loads(_client(host).get(f"/meetings/{one_to_one.pk}/export.json").content)
    schema = json.loads(SCHEMA.read_text())
    assert document["version"] == exports.EXPORT_VERSION == 3
    notes_schema = schema["properties"]["notes"]
    assert set(document["notes"]) == set(notes_schema["required"])
    assert document["notes"]["template"] == {"key": "one_to_one", "name": "One-to-one"}
    section_schema = notes_schema["properties"]["sections"]["items"]
    line_schema = section_schema["properties"]["items"]["items"]
    for section in document["notes"]["sections"]:
        assert set(section) == set(section_schema["required"])
        assert all(set(line) == set(line_schema["required"]) for line in section["items"])
    assert document["notes"]["sections"][1]["note"] == NEEDS_AI_MODEL


def test_the_markdown_export_has_the_sections_under_the_template_s_name(
    one_to_one: Meeting, host: User
) -> None:
    text = _client(host).get(f"/meetings/{one_to_one.pk}/export.md").content.decode()
    notes, _, _ = text.partition("## Transcript")
    assert "\n## One-to-one\n\n### Topics\n\n- Aylin: How did the conference talk go" in notes
    assert f"### Feedback\n\n_{NEEDS_AI_MODEL}_\n" in notes
    html = MarkdownIt().render(notes)
    assert "<h3>Action items</h3>" in html
    assert "&lt;slides&gt;" in html and "<slides>" not in html


def test_slack_and_email_show_the_sections_escaped(one_to_one: Meeting) -> None:
    notes = content.notes_content(one_to_one.pk)
    assert notes.template_name == "One-to-one"
    text = slack.message_text(notes)
    assert "*One-to-one*\n_Topics_\n• Aylin: How did the conference talk go last week?" in text
    assert f"_Feedback_\n{NEEDS_AI_MODEL}" in text
    assert "&lt;slides&gt;" in text and "<slides>" not in text
    plain = mail.plain_text(notes)
    assert "One-to-one\n\nTopics\n- Aylin: How did the conference talk go last week?" in plain
    html = str(mail.message(notes, ["a@example.test"]).alternatives[0][0])
    assert "<h3>Feedback</h3>" in html and "&lt;slides&gt;" in html


def test_notes_with_the_default_template_add_nothing_anywhere(
    make_meeting: Callable[..., Meeting], host: User
) -> None:
    meeting = make_meeting(owner=host, state=Meeting.State.ENDED, topic="Weekly sync")
    TranscriptSegment.objects.create(
        meeting=meeting, seq=1, source="native", speaker_name="Ana", start_ms=0, end_ms=900,
        text="I'll write the release notes by Friday.", dedupe_key="s1",
    )  # fmt: skip
    updates.finish(meeting.pk)
    assert MeetingNotes.objects.get(meeting=meeting).sections == []
    markdown = "".join(exports.markdown(meeting.pk, 0))
    assert "## Default" not in markdown
    assert "*Default*" not in slack.message_text(content.notes_content(meeting.pk))
