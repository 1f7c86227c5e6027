"""The automatic extract writes a template's sections from what was said, and says what it can't."""

from __future__ import annotations

import datetime as dt

from assistant.services.notes import extractive, templates
from assistant.services.notes.draft import DraftSection, NotesDraft, Utterance
from assistant.services.notes.templates import NEEDS_AI_MODEL, Section, Template
from assistant.template_models import SectionExtract

DAY = dt.date(2026, 12, 8)


def _said(*lines: tuple[str, str]) -> list[Utterance]:
    return [Utterance(n, n, who, n * 1000, n * 1000 + 900, text) for n, (who, text) in
            enumerate(lines, 1)]  # fmt: skip


def _sections(template: Template, *lines: tuple[str, str]) -> list[DraftSection]:
    said = _said(*lines)
    speakers = list(dict.fromkeys(u.speaker for u in said))
    notes = extractive.final(said, said_on=DAY, speakers=speakers, topic="", template=template)
    return notes.sections


def _lines(section: DraftSection) -> list[tuple[str, list[int]]]:
    return [(item.text, item.segment_ids) for item in section.items]


STANDUP = (
    ("Nadia Petrova", "Good morning. Ravi, go ahead."),
    ("Ravi Menon", "Yesterday I fixed the crash. Today I'm writing tests for the sync service."),
    ("Ravi Menon", "No blockers from me."),
    ("Helen Brooks", "I was on call yesterday, mostly the disk alerts."),
    ("Helen Brooks", "I'm blocked on the new icons, design hasn't exported them yet."),
    ("Nadia Petrova", "Helen, please ask design for the icons today."),
)


def test_a_stand_up_has_a_section_per_person_with_yesterday_today_and_blockers() -> None:
    ravi, helen = _sections(templates.STANDUP, *STANDUP)
    assert (ravi.heading, _lines(ravi), ravi.note) == (
        "Ravi Menon",
        [
            ("Yesterday: I fixed the crash.", [2]),
            ("Today: I'm writing tests for the sync service.", [2]),
            ("Blockers: none.", [3]),
        ],
        "",
    )
    assert (helen.heading, _lines(helen)) == (
        "Helen Brooks",
        [
            ("Yesterday: I was on call, mostly the disk alerts.", [4]),
            ("Blockers: I'm blocked on the new icons, design hasn't exported them yet.", [5]),
        ],
    )
    assert helen.note == "Not said: today."


def test_a_request_said_with_today_is_not_the_speaker_s_own_today() -> None:
    sections = _sections(templates.STANDUP, *STANDUP)
    assert "Nadia Petrova" not in [s.heading for s in sections]


def test_yesterday_and_today_in_one_sentence_are_two_lines() -> None:
    [ben] = _sections(
        templates.STANDUP,
        ("Ben Carter", "Yesterday I finished the rate limiter and today I'm on the exports."),
    )
    assert _lines(ben) == [
        ("Yesterday: I finished the rate limiter.", [1]),
        ("Today: I'm on the exports.", [1]),
    ]


SALES = (
    ("Julia Park", "Thanks for your time, Daniel. What brings you to us?"),
    ("Daniel Reyes", "We need a way to track delivery times in one place."),
    ("Daniel Reyes", "Honestly, it looks too expensive for a team our size."),
    ("Mei Tanaka", "Our main concern is data security. Where is the data stored?"),
    ("Mei Tanaka", "That helps, but we can't start before February."),
    ("Julia Park", "I'll send the security report and the small-team pricing by Thursday."),
)


def test_a_sales_call_has_needs_objections_and_next_steps_citing_what_was_said() -> None:
    needs, objections, steps = _sections(templates.SALES_CALL, *SALES)
    assert [s.heading for s in (needs, objections, steps)] == ["Needs", "Objections", "Next steps"]
    assert _lines(needs) == [
        ("Daniel: We need a way to track delivery times in one place.", [2]),
        ("Mei: Our main concern is data security.", [4]),
    ]
    assert _lines(objections) == [
        ("Daniel: Honestly, it looks too expensive for a team our size.", [3]),
        ("Mei: That helps, but we can't start before February.", [5]),
    ]
    # The commitment that names the pricing is a next step, not an objection.
    assert _lines(steps) == [
        ("Julia: send the security report and the small-team pricing by Thursday.", [6])
    ]


def test_a_one_to_one_lists_its_topics_and_says_feedback_needs_an_ai_model() -> None:
    topics, feedback, actions = _sections(
        templates.ONE_TO_ONE,
        ("Aylin Demir", "How did the conference talk go last week?"),
        ("Sam Ortiz", "Really well. I wanted to talk about my promotion case."),
        ("Aylin Demir", "Great job on the slides. Anything else on your mind?"),
        ("Sam Ortiz", "No, thanks. I'll send you the draft by Friday."),
    )
    assert _lines(topics) == [
        ("Aylin: How did the conference talk go last week?", [1]),
        ("Sam: I wanted to talk about my promotion case.", [2]),
    ]
    assert (feedback.heading, feedback.items, feedback.note) == ("Feedback", [], NEEDS_AI_MODEL)
    assert feedback.note == "Needs an AI model: the automatic extract cannot write this section."
    assert _lines(actions) == [("Sam: send you the draft by Friday.", [4])]


def test_an_admin_s_free_section_is_labelled_and_never_filled() -> None:
    template = Template(
        "retro",
        "Retro",
        (
            Section("Mood", "How the team feels, in one line."),
            Section("Decided", "What was decided.", SectionExtract.DECISIONS),
        ),
    )
    mood, decided = _sections(
        template,
        ("Priya Raman", "I feel great about this sprint. We decided to keep weekly demos."),
    )
    assert (mood.items, mood.note) == ([], NEEDS_AI_MODEL)
    assert _lines(decided) == [("We decided to keep weekly demos.", [1])]


def test_the_default_template_has_no_section_and_the_notes_are_as_before() -> None:
    said = _said(*SALES)
    plain = extractive.final(said, said_on=DAY, speakers=[], topic="")
    with_default = extractive.final(
        said, said_on=DAY, speakers=[], topic="", template=templates.DEFAULT
    )
    with_sales = extractive.final(
        said, said_on=DAY, speakers=[], topic="", template=templates.SALES_CALL
    )
    assert plain.sections == [] and with_default == plain
    assert (with_sales.summary, with_sales.action_items) == (plain.summary, plain.action_items)


def test_rolling_updates_write_the_same_sections_as_reading_at_once() -> None:
    said = _said(*STANDUP)
    notes = NotesDraft()
    for start in range(0, len(said), 2):
        notes = extractive.update(
            notes, said[start : start + 2], said_on=DAY, speakers=[], template=templates.STANDUP
        )
    whole = extractive.update(NotesDraft(), said, said_on=DAY, speakers=[],
                              template=templates.STANDUP)  # fmt: skip
    assert notes.sections == whole.sections and len(notes.sections) == 2
