"""Notes templates an admin writes: a name, sections (heading and instructions), a topic rule.

Kept apart from models.py (which imports them, so Django registers them with the app). The
built-in templates are code (assistant/services/notes/templates.py); which template a meeting
uses is assistant/services/notes/meeting_template.py; the admin form validates what is typed
here (assistant/template_admin.py).
"""

from __future__ import annotations

from django.db import models

# Bounds on what an admin writes: it goes into every LLM prompt of the meetings that use it.
MAX_HEADING_CHARS = 80
MAX_INSTRUCTIONS_CHARS = 500
MAX_SECTIONS = 8


class SectionExtract(models.TextChoices):
    """What the automatic extract (no AI model) puts in a section; blank: it cannot."""

    NOTHING = "", "Nothing: needs an AI model"
    YESTERDAY = "yesterday", "What each person did yesterday"
    TODAY = "today", "What each person does today"
    BLOCKERS = "blockers", "What blocks each person"
    NEEDS = "needs", "Needs (“we need”, “we're looking for”)"
    OBJECTIONS = "objections", "Objections (price, security, timing)"
    TOPICS = "topics", "The topics raised"
    ACTION_ITEMS = "action_items", "The action items"
    DECISIONS = "decisions", "The decisions"
    OPEN_QUESTIONS = "open_questions", "The open questions"


class NotesTemplate(models.Model):
    """A kind of meeting and what its notes contain, as an admin wrote it."""

    name = models.CharField(max_length=80, unique=True)
    key = models.SlugField(
        max_length=40,
        unique=True,
        help_text="how the meeting page and the API name it (letters, digits, - and _)",
    )
    topic_rule = models.TextField(
        blank=True,
        max_length=1000,
        help_text="words or phrases, one a line or separated by commas: a meeting whose topic "
        "contains one of them (whole words, any case) gets this template unless its host "
        "chooses another; blank: chosen by hand only",
    )
    per_person = models.BooleanField(
        default=False,
        help_text="one section for each person who spoke, with the sections below as its "
        "lines (as the built-in stand-up does)",
    )
    position = models.PositiveIntegerField(
        default=0, help_text="when the topic rules of several templates match: the lowest wins"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "name"]

    def __str__(self) -> str:
        return self.name


class NotesTemplateSection(models.Model):
    """A section of an admin's template: its heading and what an AI model is to write there."""

    template = models.ForeignKey(NotesTemplate, on_delete=models.CASCADE, related_name="sections")
    heading = models.CharField(max_length=MAX_HEADING_CHARS)
    instructions = models.TextField(
        max_length=MAX_INSTRUCTIONS_CHARS,
        help_text="what an AI model is to write in this section",
    )
    extract = models.CharField(
        "without an AI model",
        max_length=20,
        choices=SectionExtract.choices,
        blank=True,
        default=SectionExtract.NOTHING,
        help_text="what the automatic extract puts here when no AI model writes the notes",
    )
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.heading
