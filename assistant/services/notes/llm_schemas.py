"""The LLM's reply schemas (pydantic): rolling notes, final notes, a template's sections, answers.

A template with sections the model writes asks for its sections' lines instead of key points;
the default template (and one whose sections only list the notes' own items) asks for exactly
the notes: the same schema, so the same prompt tokens, as before templates.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from assistant.services.notes.templates import Template, written_by_model

MAX_ITEMS_IN_CONTEXT = 20
# A per-person template has a section for each person: room for a large stand-up.
MAX_SECTIONS = 20
MAX_SECTION_LINES = 60


def _clip(limit: int) -> AfterValidator:
    """Cut a string to `limit` characters once validated.

    Not a maxLength in the schema: llama.cpp turns a long maxLength into a grammar nested that
    many levels deep, which its parser rejects (and the server dies). Arrays keep maxItems.
    """
    return AfterValidator(lambda text: text[:limit])


class LlmDecision(BaseModel):
    """A decision in an LLM reply."""

    model_config = ConfigDict(extra="forbid")
    id: Annotated[str, _clip(8)]
    text: Annotated[str, _clip(400)]
    segment_ids: list[int] = Field(max_length=8)


class LlmAction(BaseModel):
    """An action item in an LLM reply."""

    model_config = ConfigDict(extra="forbid")
    id: Annotated[str, _clip(8)]
    text: Annotated[str, _clip(300)]
    owner: Annotated[str, _clip(100)]
    due: Annotated[str, _clip(60)]
    segment_ids: list[int] = Field(max_length=8)


class LlmNotes(BaseModel):
    """Rolling notes in an LLM reply."""

    model_config = ConfigDict(extra="forbid")
    summary: Annotated[str, _clip(1200)]
    key_points: list[str] = Field(max_length=8)
    decisions: list[LlmDecision] = Field(max_length=MAX_ITEMS_IN_CONTEXT)
    action_items: list[LlmAction] = Field(max_length=MAX_ITEMS_IN_CONTEXT)
    open_questions: list[str] = Field(max_length=6)


class LlmFinalNotes(LlmNotes):
    """Final notes in an LLM reply: the same, plus a title."""

    title: Annotated[str, _clip(120)]


class LlmSectionLine(BaseModel):
    """A line of a template's section in an LLM reply, under its section's heading.

    One flat list of lines rather than sections of lines: the schema sent with every request
    stays a single small definition (sections are grouped by heading afterwards).
    """

    model_config = ConfigDict(extra="forbid")
    heading: Annotated[str, _clip(80)]
    text: Annotated[str, _clip(300)]
    segment_ids: list[int] = Field(max_length=8)


class LlmSectionedNotes(BaseModel):
    """Rolling notes of a meeting with a template: its sections' lines instead of key points.

    The sections are what the meeting's notes hold besides the outcomes; key points beside
    them would say the same things again (and cost tokens in every request).
    """

    model_config = ConfigDict(extra="forbid")
    summary: Annotated[str, _clip(1200)]
    decisions: list[LlmDecision] = Field(max_length=MAX_ITEMS_IN_CONTEXT)
    action_items: list[LlmAction] = Field(max_length=MAX_ITEMS_IN_CONTEXT)
    open_questions: list[str] = Field(max_length=6)
    section_lines: list[LlmSectionLine] = Field(max_length=MAX_SECTION_LINES)


class LlmSectionedFinalNotes(LlmSectionedNotes):
    """Final notes of a meeting with a template: the same, plus a title."""

    title: Annotated[str, _clip(120)]


# Any notes reply; the final ones have a title.
AnyNotes = LlmNotes | LlmSectionedNotes
FINAL_REPLIES = (LlmFinalNotes, LlmSectionedFinalNotes)


class LlmCitation(BaseModel):
    """An answer in an LLM reply, with the segments it rests on."""

    model_config = ConfigDict(extra="forbid")
    answer: Annotated[str, _clip(1500)]
    found: bool
    segment_ids: list[int] = Field(max_length=8)


def rolling_schema(template: Template) -> type[LlmNotes] | type[LlmSectionedNotes]:
    """What a rolling update's reply is: the notes, with sections when the model writes some."""
    return LlmSectionedNotes if written_by_model(template) else LlmNotes


def final_schema(template: Template) -> type[LlmFinalNotes] | type[LlmSectionedFinalNotes]:
    """What a final notes' reply is: the same with a title."""
    return LlmSectionedFinalNotes if written_by_model(template) else LlmFinalNotes
