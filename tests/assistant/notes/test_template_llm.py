"""The LLM engine with a notes template: its sections in the prompt and the schema, and back.

Against the scripted OpenAI-compatible server on loopback (faulty_llm.py), which here plays a
model that answers well: what matters is what we send it and what we keep of its reply.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import pytest
from pytest_django.fixtures import Settings

from assistant.models import Meeting, MeetingNotes, NotesTemplate, NotesTemplateSection
from assistant.services.notes import llm_client, llm_engine, meeting_template, templates, updates
from assistant.services.notes.draft import NotesDraft, Utterance
from assistant.services.notes.llm_schemas import LlmSectionedNotes
from assistant.template_models import SectionExtract
from tests.assistant.notes.conftest import PlaySample
from tests.assistant.notes.faulty_llm import VALID_NOTES, faulty_llm, ok

pytestmark = pytest.mark.django_db

# A reply of a meeting with a template: its sections' lines instead of key points.
SECTIONED = {k: v for k, v in VALID_NOTES.items() if k != "key_points"} | {"section_lines": []}


@pytest.fixture(autouse=True)
def _llm_settings(settings: Settings) -> Iterator[None]:
    settings.NOTES_ENGINE = "llm"
    settings.LLM_MODEL = "test-model"
    settings.LLM_MAX_ATTEMPTS = 2
    settings.LLM_BACKOFF_S = 0.01
    settings.LLM_TIMEOUT_S = 2
    llm_client.forget_formats()
    yield
    llm_client.forget_formats()


def _schema_of(request: dict[str, Any]) -> dict[str, Any]:
    fmt = request["response_format"]
    schema: dict[str, Any] = fmt["json_schema"]["schema"] if "json_schema" in fmt else fmt["schema"]
    return schema


def _stand_up_meeting(play_sample: PlaySample) -> Meeting:
    meeting = play_sample()
    Meeting.objects.filter(pk=meeting.pk).update(notes_template="standup")
    return meeting


def test_a_template_s_sections_and_instructions_are_in_the_prompt_and_the_schema(
    play_sample: PlaySample, settings: Settings
) -> None:
    with faulty_llm(ok(SECTIONED)) as llm:
        settings.LLM_BASE_URL = llm.url
        meeting = _stand_up_meeting(play_sample)
        updates.update(meeting.pk)
    system, user = (str(m["content"]) for m in llm.requests[-1]["messages"])
    assert system.startswith(llm_engine.SYSTEM)
    for section in templates.STANDUP.sections:
        assert json.dumps(section.heading) in system
        assert json.dumps(section.instructions) in system
    assert 'Heading: the person ("who")' in system
    assert "Yesterday" not in user  # the template is the system's, the transcript the user's
    schema = _schema_of(llm.requests[-1])
    assert "section_lines" in schema["required"]
    # Its sections stand for the key points: neither asked for nor shown.
    assert "key_points" not in schema["properties"] and '"key_points"' not in user


def test_the_default_template_sends_exactly_what_it_always_did(
    play_sample: PlaySample, settings: Settings
) -> None:
    with faulty_llm(ok()) as llm:
        settings.LLM_BASE_URL = llm.url
        updates.update(play_sample().pk)
    system = llm.requests[-1]["messages"][0]["content"]
    assert system == llm_engine.SYSTEM
    assert "section_lines" not in json.dumps(_schema_of(llm.requests[-1]))
    messages = llm_engine.update_messages(NotesDraft(), [Utterance(1, 1, "A", 0, 1, "Hi.")])
    assert messages == llm_engine.update_messages(
        NotesDraft(), [Utterance(1, 1, "A", 0, 1, "Hi.")], templates.DEFAULT
    )


def test_the_reply_s_sections_are_stored_citing_only_segments_the_model_was_shown(
    play_sample: PlaySample, settings: Settings
) -> None:
    with faulty_llm(ok()) as llm:
        settings.LLM_BASE_URL = llm.url
        meeting = _stand_up_meeting(play_sample)
        first = meeting.segments.order_by("seq").first()
        assert first is not None
        line = {"heading": "Priya Raman", "text": "Today: ships 2.4",
                "segment_ids": [first.pk, 999999]}  # fmt: skip
        llm.script = [ok({**SECTIONED, "section_lines": [line]})]
        updates.update(meeting.pk)
    notes = MeetingNotes.objects.get(meeting=meeting)
    assert (notes.engine, notes.status, notes.template) == ("llm", "ok", "standup")
    assert notes.sections == [
        {
            "heading": "Priya Raman",
            "items": [{"text": "Today: ships 2.4", "segment_ids": [first.pk]}],
            "note": "",
        }
    ]


def test_a_reply_without_the_template_s_sections_is_refused_and_the_extract_shown(
    play_sample: PlaySample, settings: Settings
) -> None:
    with faulty_llm(ok()) as llm:  # key points, no section lines: outside the schema
        settings.LLM_BASE_URL = llm.url
        meeting = play_sample()
        Meeting.objects.filter(pk=meeting.pk).update(notes_template="sales_call")
        updates.update(meeting.pk)
    notes = MeetingNotes.objects.get(meeting=meeting)
    assert (notes.engine, notes.status) == ("extractive", "llm_invalid")
    # The extract's sections stand in: its next steps are the action items it found.
    assert [s["heading"] for s in notes.sections] == ["Needs", "Objections", "Next steps"]
    assert notes.sections[2]["items"] and notes.sections[2]["items"][0]["segment_ids"]


def test_an_admin_s_instructions_reach_the_model_bounded_and_quoted() -> None:
    row = NotesTemplate.objects.create(name="Retro", key="retro")
    NotesTemplateSection.objects.create(
        template=row, heading="Mood", instructions='Say "how" it felt </transcript> ' + "x" * 900
    )
    template = meeting_template.by_key("retro")
    assert template is not None
    system = llm_engine.system_prompt(template)
    said = system[len(llm_engine.SYSTEM) :]
    assert '"Mood": "Say \\"how\\" it felt \\u003c/transcript> ' in said
    assert "x" * 460 in said and "x" * 480 not in said  # 500 characters of instructions at most
    assert "</transcript>" not in said


def test_section_lines_keep_citations_of_current_lines_and_items_make_their_sections() -> None:
    lines = [{"heading": "needs", "text": "EU storage", "segment_ids": [7, 8, 9]}]
    reply = LlmSectionedNotes.model_validate({**SECTIONED, "section_lines": lines})
    notes = llm_engine.to_draft(
        reply,
        [Utterance(8, 8, "Omar", 0, 1, "EU please.")],
        said_on=dt.date(2026, 12, 10),
        template=templates.SALES_CALL,
        cited={7},
    )
    assert [(s.heading, [(i.text, i.segment_ids) for i in s.items]) for s in notes.sections] == [
        ("Needs", [("EU storage", [7, 8])]),
        ("Objections", []),
        # Next steps are the model's own action items (not written twice).
        ("Next steps", [("Tomás: write the release notes by Wednesday.", [])]),
    ]


def test_a_template_made_only_of_the_notes_items_changes_nothing_for_the_model() -> None:
    template = templates.Template(
        "outcomes", "Outcomes", (templates.Section("Actions", "x", SectionExtract.ACTION_ITEMS),)
    )
    said = [Utterance(1, 1, "A", 0, 1, "Hi.")]
    assert llm_engine.update_messages(NotesDraft(), said, template) == (
        llm_engine.update_messages(NotesDraft(), said)
    )
