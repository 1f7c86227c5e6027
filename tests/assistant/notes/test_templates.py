"""Notes templates: topic rules, which template a meeting uses, and the admin that writes them."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from assistant.models import Meeting, NotesTemplate, NotesTemplateSection
from assistant.services.notes import meeting_template, templates
from assistant.template_models import MAX_SECTIONS, SectionExtract

pytestmark = pytest.mark.django_db

MakeMeeting = Callable[..., Meeting]


@pytest.mark.parametrize(
    ("rule", "topic"),
    [
        (("stand-up",), "Daily Stand-up"),
        (("stand-up",), "team stand up, Monday"),
        (("1:1",), "1:1 Sam / Aylin"),
        (("one-to-one",), "Aylin one-to-one"),
        (("sales call",), "SALES CALL: Acme"),
        (("réunion",), "Reunion d'equipe"),
    ],
)
def test_a_topic_rule_matches_its_words_whatever_the_case_accents_and_dashes(
    rule: tuple[str, ...], topic: str
) -> None:
    assert templates.topic_matches(rule, topic)


@pytest.mark.parametrize(
    ("rule", "topic"),
    [
        (("stand-up",), "Standups retrospective"),
        (("sales call",), "Sales team call"),
        (("sales",), "Wholesales review"),
        ((".*",), "anything at all"),
    ],
)
def test_a_topic_rule_matches_whole_words_in_order_never_a_pattern(
    rule: tuple[str, ...], topic: str
) -> None:
    assert not templates.topic_matches(rule, topic)


def test_a_hostile_rule_on_a_long_topic_is_still_quick() -> None:
    rule = templates.rule_phrases(", ".join(["a a a a a a a a a b"] * templates.MAX_RULE_PHRASES))
    started = time.perf_counter()
    assert not templates.topic_matches(rule, "a " * 150)
    assert time.perf_counter() - started < 0.1


def test_rule_problems_name_what_is_wrong() -> None:
    assert templates.rule_problems("stand-up, daily scrum\nstandup") == []
    too_many = ", ".join(f"word{n}" for n in range(templates.MAX_RULE_PHRASES + 1))
    assert templates.rule_problems(too_many) == ["At most 20 words or phrases."]
    assert "longer than 60" in templates.rule_problems("x" * 61)[0]
    assert "no letter or digit" in templates.rule_problems("stand-up, ***")[0]


def _admin_template(key: str = "retro", rule: str = "retro", **fields: Any) -> NotesTemplate:
    row = NotesTemplate.objects.create(name=key.title(), key=key, topic_rule=rule, **fields)
    NotesTemplateSection.objects.create(
        template=row, heading="Went well", instructions="What went well, as said."
    )
    return row


def test_a_meeting_without_a_choice_gets_the_template_its_topic_names(
    make_meeting: MakeMeeting,
) -> None:
    assert meeting_template.for_meeting(make_meeting(topic="Mobile daily stand-up")).key == (
        "standup"
    )
    assert meeting_template.for_meeting(make_meeting(topic="Weekly sync")).key == "default"


def test_an_admin_s_template_rule_comes_before_the_built_in_ones(
    make_meeting: MakeMeeting,
) -> None:
    _admin_template("platform", rule="platform stand-up")
    meeting = make_meeting(topic="Platform stand-up")
    assert meeting_template.for_meeting(meeting).key == "platform"
    assert meeting_template.for_meeting(make_meeting(topic="Mobile stand-up")).key == "standup"


def test_the_lowest_position_wins_among_admins_rules(make_meeting: MakeMeeting) -> None:
    _admin_template("late", rule="retro", position=5)
    _admin_template("early", rule="sprint retro", position=1)
    assert meeting_template.for_meeting(make_meeting(topic="Sprint retro")).key == "early"


def test_the_host_s_choice_wins_over_the_topic(make_meeting: MakeMeeting) -> None:
    meeting = make_meeting(topic="Daily stand-up", notes_template="sales_call")
    assert meeting_template.for_meeting(meeting).key == "sales_call"


def test_a_chosen_template_deleted_since_gives_way_to_the_topic(
    make_meeting: MakeMeeting,
) -> None:
    row = _admin_template("retro")
    meeting = make_meeting(topic="Daily stand-up", notes_template="retro")
    assert meeting_template.for_meeting(meeting).key == "retro"
    row.delete()
    assert meeting_template.for_meeting(meeting).key == "standup"


def test_an_admin_s_template_reaches_the_notes_bounded() -> None:
    row = NotesTemplate.objects.create(name="Long", key="long")
    for n in range(MAX_SECTIONS + 3):
        NotesTemplateSection.objects.create(
            template=row, heading=f"H{n}", instructions="x" * 5000, position=n
        )
    template = meeting_template.by_key("long")
    assert template is not None and len(template.sections) == MAX_SECTIONS
    assert {len(s.instructions) for s in template.sections} == {500}


def _admin_client(admin_user: User) -> Client:
    client = Client()
    client.force_login(admin_user)
    return client


def _add_form(**overrides: str) -> dict[str, str]:
    form = {
        "name": "Retrospective",
        "key": "retrospective",
        "topic_rule": "retro, retrospective",
        "position": "0",
        "sections-TOTAL_FORMS": "2",
        "sections-INITIAL_FORMS": "0",
        "sections-MIN_NUM_FORMS": "0",
        "sections-MAX_NUM_FORMS": str(MAX_SECTIONS),
        "sections-0-position": "1",
        "sections-0-heading": "Went well",
        "sections-0-instructions": "What the team says went well.",
        "sections-0-extract": "",
        "sections-1-position": "2",
        "sections-1-heading": "Actions",
        "sections-1-instructions": "Who does what next.",
        "sections-1-extract": SectionExtract.ACTION_ITEMS,
    }
    form.update(overrides)
    return form


def test_an_admin_writes_a_template_that_hosts_can_then_choose(admin_user: User) -> None:
    response = _admin_client(admin_user).post(
        "/admin/assistant/notestemplate/add/", _add_form(topic_rule="retro,\n retrospective ")
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    row = NotesTemplate.objects.get(key="retrospective")
    assert row.topic_rule == "retro\nretrospective"
    template = meeting_template.by_key("retrospective")
    assert template is not None
    assert [(s.heading, s.extract) for s in template.sections] == [
        ("Went well", ""),
        ("Actions", "action_items"),
    ]
    assert "retrospective" in [t.key for t in meeting_template.available()]


@pytest.mark.parametrize(
    ("overrides", "says"),
    [
        ({"key": "standup"}, "a built-in template"),
        ({"topic_rule": ", ".join(f"w{n}" for n in range(21))}, "At most 20"),
        ({"topic_rule": "y" * 61}, "longer than 60"),
        ({"sections-0-heading": "", "sections-1-heading": ""}, "at least one section"),
        ({"sections-0-instructions": "z" * 501}, "at most 500 characters"),
    ],
)
def test_the_admin_refuses_a_template_it_cannot_use_and_says_why(
    admin_user: User, overrides: dict[str, str], says: str
) -> None:
    if "sections-0-heading" in overrides:
        overrides = {**overrides, "sections-TOTAL_FORMS": "0"}
    response = _admin_client(admin_user).post(
        "/admin/assistant/notestemplate/add/", _add_form(**overrides)
    )
    assert response.status_code == 200
    assert says in response.content.decode()
    assert not NotesTemplate.objects.exists()
