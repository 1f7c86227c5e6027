"""A template's sections in the LLM engine: the prompt's part, the current sections, the reply's.

The model writes only the sections that need writing (templates.written_by_model): a section
that lists the notes' own action items, decisions or open questions is made from the model's
items afterwards (sections.from_items), as the extract makes it, which keeps them consistent
and costs no tokens. The template's headings and instructions are an admin's (or the code's):
trusted text, unlike the transcript, so they go in the system message, but bounded
(templates.bounded) and quoted as JSON strings so that they stay what they are, one line each.
The default template adds nothing: not a word of prompt, not a field of schema.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from assistant.services.notes import sections as extract_sections
from assistant.services.notes.draft import DraftSection, DraftSectionItem, NotesDraft, fold
from assistant.services.notes.llm_schemas import MAX_SECTION_LINES, MAX_SECTIONS, AnyNotes
from assistant.services.notes.templates import FROM_ITEMS, Template, written_by_model
from assistant.template_models import SectionExtract

_SECTIONS = (
    " section_lines: the template's sections below (trusted, unlike the transcript), from what "
    "was said, citing segment_ids; keep current lines unless new segments change them"
)
_PER_SECTION = ". Headings:"
_PER_PERSON = '. Heading: the person ("who"); a line starts with its part ("Part: ..."). Parts:'


def prompt(template: Template) -> str:
    """What the system message adds for the template ("" when the model writes no section)."""
    asked = written_by_model(template)
    if not asked:
        return ""
    lines = "".join(f"\n{_quoted(s.heading)}: {_quoted(s.instructions)}" for s in asked)
    return _SECTIONS + (_PER_PERSON if template.per_person else _PER_SECTION) + lines


def _quoted(text: str) -> str:
    """Text as one JSON string ("<" escaped like the transcript's)."""
    return json.dumps(" ".join(text.split()), ensure_ascii=False).replace("<", "\\u003c")


def current(notes: NotesDraft, template: Template) -> list[dict[str, object]]:
    """The current lines of the sections the model writes, as it is shown them (bounded)."""
    made = {fold(s.heading) for s in template.sections if s.extract in FROM_ITEMS}
    labels = tuple(f"{heading}:" for heading in made)
    shown: list[dict[str, object]] = [
        {"heading": section.heading, "text": item.text, "segment_ids": item.segment_ids}
        for section in notes.sections[:MAX_SECTIONS]
        if fold(section.heading) not in made
        for item in section.items
        if not fold(item.text).startswith(labels)
    ]
    return shown[:MAX_SECTION_LINES]


def cited(notes: NotesDraft) -> set[int]:
    """The segments the current sections cite: a reply may keep citing them."""
    return {i for s in notes.sections for item in s.items for i in item.segment_ids}


def from_reply(
    reply: AnyNotes, template: Template, known: set[int], draft: NotesDraft
) -> list[DraftSection]:
    """The template's sections: the reply's (cited segments it was not shown dropped), and
    those made from the draft's own items.

    Sections by heading come in the template's order, each once (empty when the reply left it
    out); a per-person template's come as the model wrote them, each person's action items
    added to their section when the template lists them.
    """
    if template.is_default:
        return []
    grouped: dict[str, DraftSection] = {}
    for line in getattr(reply, "section_lines", []):
        heading, text = line.heading.strip(), line.text.strip()
        if heading and text:
            section = grouped.setdefault(fold(heading), DraftSection(heading))
            section.items.append(DraftSectionItem(text, _known(line.segment_ids, known)))
    written = list(grouped.values())[:MAX_SECTIONS]
    if template.per_person:
        return _per_person(template, written, draft)
    by_heading = {fold(s.heading): s.items for s in reversed(written)}
    return [
        DraftSection(
            s.heading,
            extract_sections.from_items(s.extract, draft)
            if s.extract in FROM_ITEMS
            else by_heading.get(fold(s.heading), []),
        )
        for s in template.sections
    ]


def _per_person(
    template: Template, written: list[DraftSection], draft: NotesDraft
) -> list[DraftSection]:
    """The model's sections per person, with their action items; then decisions, questions."""
    sections = list(written)
    for section in template.sections:
        if section.extract == SectionExtract.ACTION_ITEMS:
            for person in sections[: len(written)]:
                person.items += extract_sections.owned_lines(section.heading, draft, person.heading)
        elif section.extract in FROM_ITEMS:
            items = extract_sections.from_items(section.extract, draft)
            sections.append(DraftSection(section.heading, items))
    return sections


def _known(ids: Sequence[int], known: set[int]) -> list[int]:
    return list(dict.fromkeys(i for i in ids if i in known))
