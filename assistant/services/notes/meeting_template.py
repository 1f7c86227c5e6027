"""Which notes template a meeting uses: its host's choice, else a topic rule's, else the default.

The host's choice is `Meeting.notes_template` (a key; blank: none). Without one (or with one
whose admin template was deleted since), the first template whose topic rule the meeting's
topic matches: admins' templates first, by position, then the built-in ones; else the default.
"""

from __future__ import annotations

from assistant.models import Meeting, NotesTemplate
from assistant.services.notes import templates
from assistant.services.notes.templates import Section, Template


def _of_row(row: NotesTemplate) -> Template:
    """An admin's template as the notes use it (bounded)."""
    return templates.bounded(
        row.key,
        row.name,
        [Section(s.heading, s.instructions, s.extract) for s in row.sections.all()],
        per_person=row.per_person,
        topic_rule=row.topic_rule,
    )


def admins_templates() -> list[Template]:
    """The templates admins wrote, by position then name (those without a section left out)."""
    rows = NotesTemplate.objects.prefetch_related("sections")
    return [t for t in map(_of_row, rows) if not t.is_default]


def available() -> list[Template]:
    """Every template a host may choose: the built-in ones, then the admins'."""
    return [*templates.BUILT_IN, *admins_templates()]


def by_key(key: str) -> Template | None:
    """The template of that key, built-in or an admin's; None when there is none."""
    if not key:
        return None
    found = templates.built_in(key)
    if found is not None:
        return found
    row = NotesTemplate.objects.prefetch_related("sections").filter(key=key).first()
    template = _of_row(row) if row is not None else None
    return template if template is not None and not template.is_default else None


def by_topic(topic: str) -> Template:
    """The first template whose topic rule matches the topic: admins' first; else the default."""
    for template in [*admins_templates(), *templates.BUILT_IN]:
        if template.topic_rule and templates.topic_matches(template.topic_rule, topic):
            return template
    return templates.DEFAULT


def for_meeting(meeting: Meeting) -> Template:
    """The template the meeting's notes are written with now."""
    return by_key(meeting.notes_template) or by_topic(meeting.topic)


def of_meeting(meeting_id: int) -> Template:
    """The same, by the meeting's id."""
    return for_meeting(Meeting.objects.only("notes_template", "topic").get(pk=meeting_id))


def notes_key(stored: str) -> str:
    """The template stored notes were built with (MeetingNotes.template; blank: the default)."""
    return stored or templates.DEFAULT.key
