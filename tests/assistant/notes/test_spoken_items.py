"""What the extractive engine hears in a conversation: answers, refusals, reversals, questions.

Each case is a few lines of a meeting, read without a database, as `make eval-notes` reads its
annotated meetings (benchmarks/notes_meetings); here each behaviour on its own.
"""

from __future__ import annotations

import datetime as dt

import pytest

from assistant.services.notes import dates, extractive
from assistant.services.notes.draft import NotesDraft, Utterance
from benchmarks import notes_eval

MONDAY = dt.date(2026, 11, 2)


def notes_of(*lines: tuple[str, str], said_on: dt.date = MONDAY) -> NotesDraft:
    said = [
        Utterance(n, n, speaker, n * 5000, n * 5000 + 4000, text)
        for n, (speaker, text) in enumerate(lines, start=1)
    ]
    speakers = list(dict.fromkeys(s for s, _ in lines))
    return extractive.final(said, said_on=said_on, speakers=speakers, topic="")


def owned(notes: NotesDraft) -> list[tuple[str, str, dt.date | None]]:
    return [(a.owner.split()[0], a.text, a.due_date) for a in notes.action_items]


def test_the_owners_yes_confirms_the_item_instead_of_adding_an_echo() -> None:
    notes = notes_of(
        ("Priya Raman", "Marcus, please send the contractor request to procurement."),
        ("Marcus Lee", "Yes, I will send it by Wednesday noon."),
        ("Priya Raman", "Tomás, please write the onboarding checklist by Tuesday."),
        ("Tomás Ortega", "Will do. I will confirm by Tuesday."),
    )

    assert owned(notes) == [
        ("Marcus", "Send the contractor request to procurement", dt.date(2026, 11, 4)),
        ("Tomás", "Write the onboarding checklist", dt.date(2026, 11, 3)),
    ]
    assert notes.action_items[0].segment_ids == [1, 2]


def test_a_new_task_after_yes_is_its_own_item() -> None:
    notes = notes_of(
        ("Priya Raman", "Tomás, please write the release notes by Wednesday."),
        ("Tomás Ortega", "Will do. I'll also tell the two customers CSV export comes in 2.5."),
    )

    assert [a.text for a in notes.action_items] == [
        "Write the release notes",
        "Tell the two customers CSV export comes in 2.5",
    ]


def test_a_refused_task_goes_to_whoever_takes_it() -> None:
    notes = notes_of(
        ("Hana Sato", "Lena, could you update the pricing page?"),
        ("Lena Fischer", "I can't this week, I'm out from Wednesday."),
        ("Hana Sato", "Okay, then I'll update the pricing page myself by Wednesday."),
    )

    assert owned(notes) == [("Hana", "Update the pricing page", dt.date(2026, 11, 4))]


def test_a_who_question_becomes_the_task_of_whoever_takes_it() -> None:
    notes = notes_of(
        ("Mark Evans", "Who checks the copy with legal?"),
        ("Noor Rahman", "I'll take that, I have a call with them on Friday."),
    )

    assert owned(notes) == [("Noor", "Checks the copy with legal", None)]


def test_i_will_send_them_is_read_as_the_request_it_answers() -> None:
    notes = notes_of(
        ("Grace Kim", "Send me both links and I'll approve one."),
        ("Tom Walsh", "Will do, I'll send them today."),
    )

    assert ("Tom", "Send Grace both links", MONDAY) in owned(notes)


def test_a_reversed_decision_is_withdrawn_and_its_replacement_kept() -> None:
    notes = notes_of(
        ("Nina Petrova", "Okay, we decided to book the downtown hotel."),
        ("Elena Rossi", "Wait, the downtown hotel has no step-free access."),
        ("Nina Petrova", "Then scrap that, we will not book the downtown hotel."),
        ("Nina Petrova", "Decision: we book the riverside conference centre instead."),
    )

    assert [d.text for d in notes.decisions] == ["We book the riverside conference centre instead."]


def test_a_proposal_someone_agrees_to_is_a_decision_and_a_past_one_is_not() -> None:
    notes = notes_of(
        ("Lena Fischer", "We agreed last quarter to cap the backlog at fifty."),
        ("Priya Raman", "Let's push the reporting revamp to the second quarter."),
        ("Björn Larsen", "Agreed."),
        ("Sara Lindqvist", "We haven't decided the newsletter for January yet."),
    )

    assert [(d.text, d.segment_ids) for d in notes.decisions] == [
        ("Push the reporting revamp to the second quarter.", [2, 3])
    ]


def test_an_answered_question_closes_and_a_deferred_one_stays_open() -> None:
    notes = notes_of(
        ("Olga Ivanova", "Do we know why the canary didn't catch it?"),
        ("Peter Brandt", "The canary only gets one percent of traffic."),
        ("Olga Ivanova", "Should we raise the canary traffic?"),
        ("Peter Brandt", "Let's take that to the SRE team next week."),
    )

    assert notes.open_questions == ["Should we raise the canary traffic?"]


def test_the_summary_says_what_was_decided_and_who_does_what_next() -> None:
    notes = notes_of(
        ("Priya Raman", "This is about staffing the support rotation for December."),
        ("Priya Raman", "Decision one: we hire two contractors for the rotation."),
        ("Priya Raman", "Zoë, can you update the on-call calendar by Friday?"),
        ("Zoë Martin", "Will do."),
    )

    assert notes.summary == (
        "This is about staffing the support rotation for December. "
        "We hire two contractors for the rotation. "
        "Zoë: update the on-call calendar by Friday."
    )


@pytest.mark.parametrize(
    ("said", "on", "expected"),
    [
        ("next Tuesday", dt.date(2026, 11, 4), dt.date(2026, 11, 10)),  # said on a Wednesday
        ("next Friday", dt.date(2026, 11, 5), dt.date(2026, 11, 13)),  # said on a Thursday
        ("the eighteenth", dt.date(2026, 11, 11), dt.date(2026, 11, 18)),
        ("the 3rd", dt.date(2026, 11, 11), dt.date(2026, 12, 3)),
        ("this afternoon", MONDAY, MONDAY),
        ("tomorrow morning", MONDAY, dt.date(2026, 11, 3)),
    ],
)
def test_more_dates_as_people_say_them(said: str, on: dt.date, expected: dt.date) -> None:
    assert dates.parse_due(said, on) == expected


def test_a_date_in_a_possessive_is_the_due_date_and_stays_in_the_task() -> None:
    assert dates.find_due("a slide deck for Thursday's all-hands") == (
        "Thursday",
        "a slide deck for Thursday's all-hands",
    )
    assert dates.find_due("draft the calendar by the end of the month")[0] == "the end of the month"


def test_rolling_updates_find_what_one_pass_finds_in_every_annotated_meeting() -> None:
    for meeting in notes_eval.meetings():
        whole = notes_eval.extractive_notes(meeting)
        rolling = NotesDraft()
        for start in range(0, len(meeting.utterances), 3):
            batch = meeting.utterances[start : start + 3]
            rolling = extractive.update(
                rolling, batch, said_on=meeting.said_on, speakers=meeting.speakers
            )
        assert [(a.text, a.owner, a.due_date) for a in rolling.action_items] == [
            (a.text, a.owner, a.due_date) for a in whole.action_items
        ], meeting.name
        assert [d.text for d in rolling.decisions] == [d.text for d in whole.decisions]
