"""Notes templates: what a meeting's notes contain besides the summary, decisions and items.

A template is a list of sections, each a heading, the instructions an AI model follows there
and what the automatic extract can put there instead (`extract`, a SectionExtract value; blank
when it cannot: the section then says it needs an AI model). A per-person template (the
stand-up) gives each person who spoke a section of their own, its lines the template's
sections. The default template has no section: the notes as they always were.

The built-in templates are here; admins write more in the Django admin (template_models.py),
and meeting_template.py decides which one a meeting uses. A topic rule is a list of words or
phrases compared word by word with the topic (folded), never a regular expression: nothing an
admin types can make matching slow.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from assistant.services.notes.draft import fold
from assistant.template_models import (
    MAX_HEADING_CHARS,
    MAX_INSTRUCTIONS_CHARS,
    MAX_SECTIONS,
    SectionExtract,
)

NEEDS_AI_MODEL = "Needs an AI model: the automatic extract cannot write this section."
MAX_RULE_PHRASES = 20
MAX_RULE_PHRASE_CHARS = 60
_WORDS = re.compile(r"[^\W_]+")
_RULE_SEPARATOR = re.compile(r"[,\n]")


@dataclass(frozen=True)
class Section:
    """A section of a template: its heading, an AI model's instructions, the extract's stand-in."""

    heading: str
    instructions: str
    extract: str = SectionExtract.NOTHING


@dataclass(frozen=True)
class Template:
    """What a kind of meeting's notes contain; `key` names it on the page and in the API."""

    key: str
    name: str
    sections: tuple[Section, ...] = ()
    per_person: bool = False
    topic_rule: tuple[str, ...] = ()

    @property
    def is_default(self) -> bool:
        """A template with no section: notes exactly as without templates."""
        return not self.sections

    def as_json(self) -> dict[str, str]:
        """How the API, the live event and the export name the template."""
        return {"key": self.key, "name": self.name}


DEFAULT = Template("default", "Default")
STANDUP = Template(
    "standup",
    "Stand-up",
    (
        Section("Yesterday", "What they did since the last stand-up.", SectionExtract.YESTERDAY),
        Section("Today", "What they will work on today.", SectionExtract.TODAY),
        Section(
            "Blockers",
            'What blocks them, as they said it; "none" when they said nothing blocks them.',
            SectionExtract.BLOCKERS,
        ),
    ),
    per_person=True,
    topic_rule=("stand-up", "standup", "daily scrum"),
)
SALES_CALL = Template(
    "sales_call",
    "Sales call",
    (
        Section(
            "Needs",
            "What the customer needs or is looking for, in their words.",
            SectionExtract.NEEDS,
        ),
        Section(
            "Objections",
            "The customer's concerns and objections: price or budget, security, timing, other.",
            SectionExtract.OBJECTIONS,
        ),
        Section("Next steps", "Who does what next, by when.", SectionExtract.ACTION_ITEMS),
    ),
    topic_rule=("sales call", "discovery call", "renewal call", "customer call"),
)
ONE_TO_ONE = Template(
    "one_to_one",
    "One-to-one",
    (
        Section("Topics", "The topics raised, one line each.", SectionExtract.TOPICS),
        Section("Feedback", "Feedback given, either way, as it was said.", SectionExtract.NOTHING),
        Section("Action items", "Who does what next, by when.", SectionExtract.ACTION_ITEMS),
    ),
    topic_rule=("one-to-one", "one on one", "1:1", "1-on-1"),
)
BUILT_IN = (DEFAULT, STANDUP, SALES_CALL, ONE_TO_ONE)
# Sections that list the notes' own items: made from them, by either engine, never written.
FROM_ITEMS = frozenset({SectionExtract.ACTION_ITEMS, SectionExtract.DECISIONS,
                        SectionExtract.OPEN_QUESTIONS})  # fmt: skip
BUILT_IN_KEYS = frozenset(t.key for t in BUILT_IN)


def written_by_model(template: Template) -> tuple[Section, ...]:
    """The sections an AI model writes: all but those made from the notes' own items."""
    return tuple(s for s in template.sections if s.extract not in FROM_ITEMS)


def built_in(key: str) -> Template | None:
    """The built-in template of that key, if there is one."""
    return next((t for t in BUILT_IN if t.key == key), None)


def bounded(
    key: str,
    name: str,
    sections: Sequence[Section],
    *,
    per_person: bool = False,
    topic_rule: str = "",
) -> Template:
    """An admin's template as the notes use it: at most MAX_SECTIONS sections, texts cut."""
    kept = tuple(
        Section(
            s.heading.strip()[:MAX_HEADING_CHARS],
            s.instructions.strip()[:MAX_INSTRUCTIONS_CHARS],
            s.extract if s.extract in SectionExtract.values else SectionExtract.NOTHING,
        )
        for s in sections
        if s.heading.strip()
    )[:MAX_SECTIONS]
    return Template(key, name, kept, per_person, rule_phrases(topic_rule)[:MAX_RULE_PHRASES])


def rule_phrases(rule: str) -> tuple[str, ...]:
    """The phrases of a topic rule: separated by commas or lines, trimmed, empty ones dropped."""
    return tuple(p.strip() for p in _RULE_SEPARATOR.split(rule) if p.strip())


def rule_problems(rule: str) -> list[str]:
    """What is wrong with a topic rule as typed (empty when nothing is)."""
    phrases = rule_phrases(rule)
    problems = []
    if len(phrases) > MAX_RULE_PHRASES:
        problems.append(f"At most {MAX_RULE_PHRASES} words or phrases.")
    for phrase in phrases:
        if len(phrase) > MAX_RULE_PHRASE_CHARS:
            problems.append(f"“{phrase[:20]}…” is longer than {MAX_RULE_PHRASE_CHARS} characters.")
        elif not _WORDS.search(fold(phrase)):
            problems.append(f"“{phrase}” has no letter or digit to look for.")
    return problems


def topic_matches(rule: Sequence[str], topic: str) -> bool:
    """Whether the topic contains one of the rule's phrases, word for word (case, accents folded).

    "stand-up" matches "Daily Stand-up" and "stand up", not "standups"; "1:1" matches "1:1 Sam".
    """
    said = _WORDS.findall(fold(topic))
    for phrase in rule:
        wanted = _WORDS.findall(fold(phrase))
        if wanted and any(
            said[i : i + len(wanted)] == wanted for i in range(len(said) - len(wanted) + 1)
        ):
            return True
    return False
