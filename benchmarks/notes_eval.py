"""How good the notes are: each engine against the annotated meetings (prints JSON).

The meetings are benchmarks/notes_meetings/*.json (the format: benchmarks/notes_scoring.py),
written for this evaluation and never used to tune by hand beyond what the figures show:
stand-ups, planning, a sales call, a one-to-one, an incident review, a brainstorm with nothing
decided, decisions reversed, action items taken implicitly ("I'll take that"), refused and
reassigned, dates said in words, people named by first name only.

Meetings of a template (benchmarks/notes_meetings/templates: stand-ups, sales calls, a
one-to-one) are scored apart, on their sections: the lines expected under each heading (per
person for a stand-up), and the sections the extract should say need an AI model. They are
not among the meetings above, whose figures stay comparable from one run to the next. Those in
templates/held_out annotate the transcripts of meetings above (`transcript_of`), written after
the extract's section rules and scored once before any change to them.

The extractive engine always runs. The LLM engine runs against the endpoint LLM_BASE_URL names
(LLM_MODEL, LLM_API_KEY as for the product), or with --local-llm against llama-cpp-python's
server with SmolLM2-135M from requirements-test.txt (a wire check, far too small to write good
notes). Each engine writes final notes of the whole meeting, as when a meeting ends.

    python -m benchmarks.notes_eval [--local-llm] [--verbose] [--meeting NAME]
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "assistant.settings")
django.setup()

from django.conf import settings  # noqa: E402  (after django.setup)

from assistant.services.notes import extractive, llm_engine, templates  # noqa: E402
from assistant.services.notes.draft import NotesDraft, Utterance  # noqa: E402
from assistant.services.notes.llm_client import CallStats, LlmConfig, LlmError  # noqa: E402
from benchmarks import notes_scoring as scoring  # noqa: E402

REPOSITORY = Path(__file__).resolve().parents[1]
MEETINGS = REPOSITORY / "benchmarks" / "notes_meetings"
# Written after the extractive engine was tuned on the others, and scored once: its honest test.
HELD_OUT = MEETINGS / "held_out"
# Meetings of a template, annotated with the sections their notes should hold.
TEMPLATE_MEETINGS = MEETINGS / "templates"
# Utterance timing for the engines: a pause, then a pace that matches conversational speech.
_GAP_MS, _MS_PER_WORD = 600, 380


@dataclass(frozen=True)
class Meeting:
    """An annotated meeting: its transcript and what its notes should hold."""

    name: str
    held_out: bool
    title: str
    said_on: dt.date
    utterances: list[Utterance]
    decisions: list[scoring.Expected]
    action_items: list[scoring.Expected]
    open_questions: list[scoring.Expected]
    template: templates.Template = templates.DEFAULT
    sections: list[scoring.ExpectedSection] = field(default_factory=list)
    needs_ai_model: list[str] = field(default_factory=list)

    @property
    def speakers(self) -> list[str]:
        """Everyone who spoke, in order of first words."""
        return list(dict.fromkeys(u.speaker for u in self.utterances))


def _recorded(path: str) -> list[tuple[str, str]]:
    """Who said what in a recorded meeting the simulator plays (docs: meeting-fixture.md)."""
    data = json.loads((REPOSITORY / path).read_text())
    names = {p["user_id"]: p["user_name"] for p in data["participants"]}
    return [(names[u["user_id"]], u["text"]) for u in data["utterances"]]


def load(path: Path) -> Meeting:
    """An annotated meeting file; utterance i is segment i + 1.

    Its utterances are listed as [speaker, text], or taken from the recorded meeting that
    "recording" names (the demo's sample meeting is scored as it plays).
    """
    data = json.loads(path.read_text())
    if "transcript_of" in data:
        # Sections annotated on an annotated meeting's transcript, that file left as it is.
        of = json.loads((MEETINGS / data["transcript_of"]).read_text())
        data |= {"utterances": of["utterances"], "said_on": of["said_on"]}
    said = data["utterances"] if "utterances" in data else _recorded(data["recording"])
    utterances, clock = [], 0
    for index, (speaker, text) in enumerate(said):
        end = clock + _MS_PER_WORD * len(text.split())
        utterances.append(Utterance(index + 1, index + 1, speaker, clock, end, text))
        clock = end + _GAP_MS

    def expected(item: dict[str, Any]) -> scoring.Expected:
        dues = [item.get("due"), *item.get("due_also", [])]
        return scoring.Expected(
            about=tuple(item["about"]),
            said_in=frozenset(i + 1 for i in item["said_in"]),
            owner=item.get("owner", ""),
            dues=frozenset(dt.date.fromisoformat(d) if d else None for d in dues),
        )

    template = templates.built_in(data.get("template", templates.DEFAULT.key))
    if template is None:
        raise ValueError(f"{path.name}: no built-in template {data['template']!r}")
    return Meeting(
        name=path.stem,
        held_out=path.parent.name == HELD_OUT.name,
        title=data["title"],
        said_on=dt.date.fromisoformat(data["said_on"]),
        utterances=utterances,
        decisions=[expected(d) for d in data.get("decisions", [])],
        action_items=[expected(a) for a in data.get("action_items", [])],
        open_questions=[expected(q) for q in data.get("open_questions", [])],
        template=template,
        sections=[
            scoring.ExpectedSection(s["heading"], tuple(expected(i) for i in s["items"]))
            for s in data.get("sections", [])
        ],
        needs_ai_model=list(data.get("needs_ai_model", [])),
    )


def meetings(only: str | None = None) -> list[Meeting]:
    """Every annotated meeting (or the one named), by name."""
    found = [load(p) for p in sorted([*MEETINGS.glob("*.json"), *HELD_OUT.glob("*.json")])]
    return [m for m in found if only is None or m.name == only]


def template_meetings(only: str | None = None) -> list[Meeting]:
    """The meetings annotated with a template's sections (or the one named), by name."""
    paths = [*TEMPLATE_MEETINGS.glob("*.json"), *(TEMPLATE_MEETINGS / "held_out").glob("*.json")]
    found = [load(p) for p in sorted(paths)]
    return [m for m in found if only is None or m.name == only]


@dataclass
class Scores:
    """One engine's tallies over the meetings."""

    decisions: scoring.Tally
    actions: scoring.Tally
    actions_text: scoring.Tally
    questions: scoring.Tally
    summary: scoring.SummaryTally

    @classmethod
    def empty(cls) -> Scores:
        """Nothing counted yet."""
        return cls(
            scoring.Tally(),
            scoring.Tally(),
            scoring.Tally(),
            scoring.Tally(),
            scoring.SummaryTally(),
        )

    def add(self, other: Scores) -> None:
        """Fold another meeting's tallies into these."""
        self.decisions.add(other.decisions)
        self.actions.add(other.actions)
        self.actions_text.add(other.actions_text)
        self.questions.add(other.questions)
        self.summary.add(other.summary)

    def figures(self) -> dict[str, Any]:
        """The figures the README's table shows."""
        return {
            "decisions": self.decisions.figures(),
            "action_items": self.actions.figures(),
            "action_items_text_only": self.actions_text.figures(),
            "open_questions": self.questions.figures(),
            "summary": self.summary.figures(),
        }


def score(meeting: Meeting, notes: NotesDraft) -> Scores:
    """How the notes of one meeting compare with its annotation."""
    return Scores(
        decisions=scoring.score_items(
            scoring.predicted_decisions(notes), meeting.decisions, full=False
        ),
        actions=scoring.score_items(
            scoring.predicted_actions(notes), meeting.action_items, full=True
        ),
        actions_text=scoring.score_items(
            scoring.predicted_actions(notes), meeting.action_items, full=False
        ),
        questions=scoring.score_items(
            scoring.predicted_questions(notes), meeting.open_questions, full=False
        ),
        summary=scoring.score_summary(
            notes, meeting.utterances, [*meeting.decisions, *meeting.action_items]
        ),
    )


def extractive_notes(meeting: Meeting) -> NotesDraft:
    """The embedded engine's final notes (with the meeting's template)."""
    return extractive.final(
        meeting.utterances,
        said_on=meeting.said_on,
        speakers=meeting.speakers,
        topic=meeting.title,
        template=meeting.template,
    )


def evaluate(
    engine: Callable[[Meeting], NotesDraft], chosen: list[Meeting], verbose: bool
) -> dict[str, Any]:
    """An engine's figures over the meetings and over the held-out ones alone.

    Each meeting's mistakes are listed too when verbose.
    """
    total, held_out, per_meeting = Scores.empty(), Scores.empty(), {}
    started = time.perf_counter()
    for meeting in chosen:
        scores = score(meeting, engine(meeting))
        total.add(scores)
        if meeting.held_out:
            held_out.add(scores)
        if verbose:
            per_meeting[meeting.name] = _mistakes(scores)
    result = total.figures()
    result["held_out"] = held_out.figures()
    result["seconds"] = round(time.perf_counter() - started, 2)
    if verbose:
        result["mistakes"] = per_meeting
    return result


def evaluate_sections(
    engine: Callable[[Meeting], NotesDraft], chosen: list[Meeting], verbose: bool
) -> dict[str, Any]:
    """An engine's figures on the template meetings' sections, and on the held-out ones alone.

    Each meeting's missed and spurious lines are listed too when verbose.
    """
    total, held_out, mistakes = scoring.SectionsTally(), scoring.SectionsTally(), {}
    for meeting in chosen:
        tally = scoring.score_sections(
            engine(meeting).sections,
            meeting.sections,
            meeting.needs_ai_model,
            templates.NEEDS_AI_MODEL,
        )
        total.add(tally)
        if meeting.held_out:
            held_out.add(tally)
        if verbose:
            mistakes[meeting.name] = {
                "lines_missed": tally.items.missed,
                "lines_spurious": tally.items.spurious,
            }
    result = total.figures()
    result["meetings"] = len(chosen)
    result["held_out"] = held_out.figures() | {"meetings": sum(m.held_out for m in chosen)}
    if verbose:
        result["mistakes"] = mistakes
    return result


def _mistakes(scores: Scores) -> dict[str, list[str]]:
    return {
        "decisions_missed": scores.decisions.missed,
        "decisions_spurious": scores.decisions.spurious,
        "action_items_missed": scores.actions.missed,
        "action_items_spurious": scores.actions.spurious,
        "open_questions_missed": scores.questions.missed,
        "open_questions_spurious": scores.questions.spurious,
    }


class LlmEngine:
    """The LLM engine's final notes, counting what it sends against the transcript's size."""

    def __init__(self, config: LlmConfig) -> None:
        self.config = config
        self.stats = CallStats()
        self.transcript_tokens = 0
        self.failures: list[str] = []

    def __call__(self, meeting: Meeting) -> NotesDraft:
        """Final notes of the meeting; empty notes (scored as such) when the model fails."""
        self.transcript_tokens += llm_engine.approx_tokens(
            llm_engine.transcript_block(meeting.utterances)
        )
        try:
            return llm_engine.final(
                self.config,
                meeting.utterances,
                said_on=meeting.said_on,
                chunk_tokens=settings.LLM_CHUNK_TOKENS,
                stats=self.stats,
                template=meeting.template,
            )
        except LlmError as exc:
            self.failures.append(f"{meeting.name}: {exc}")
            return NotesDraft()


@contextlib.contextmanager
def llm_config(local: bool) -> Iterator[LlmConfig | None]:
    """The endpoint to evaluate: the local SmolLM2 server, LLM_BASE_URL's, or none."""
    if local:
        from benchmarks.local_llm import MODEL_ALIAS, llama_server

        with llama_server() as url:
            base = LlmConfig.from_settings()
            yield LlmConfig(
                base_url=url,
                api_key="not-needed",
                model=MODEL_ALIAS,
                timeout_s=max(base.timeout_s, 300.0),
                max_attempts=base.max_attempts,
                backoff_s=base.backoff_s,
                max_output_tokens=base.max_output_tokens,
            )
        return
    yield LlmConfig.from_settings() if settings.LLM_BASE_URL else None


def main() -> None:
    """Score every engine that can run here and print the figures as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--local-llm", action="store_true", help="also run SmolLM2 locally")
    parser.add_argument("--verbose", action="store_true", help="list each meeting's mistakes")
    parser.add_argument("--meeting", help="only this meeting (its file name without .json)")
    args = parser.parse_args()
    chosen, with_template = meetings(args.meeting), template_meetings(args.meeting)
    if not chosen and not with_template:
        parser.error(f"no annotated meeting named {args.meeting!r} in {MEETINGS}")
    extract = evaluate(extractive_notes, chosen, args.verbose)
    extract["template_sections"] = evaluate_sections(extractive_notes, with_template, args.verbose)
    report: dict[str, Any] = {
        "meetings": len(chosen),
        "held_out_meetings": sum(m.held_out for m in chosen),
        "template_meetings": len(with_template),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}",
        "engines": {"extractive": extract},
    }
    with llm_config(args.local_llm) as config:
        if config is None:
            report["llm"] = "not run: set LLM_BASE_URL (and LLM_MODEL) or pass --local-llm"
        else:
            engine = LlmEngine(config)
            figures = evaluate(engine, chosen, args.verbose)
            # Its own engine, so the figures above count the same meetings as ever.
            sectioned = LlmEngine(config)
            figures["template_sections"] = evaluate_sections(sectioned, with_template, args.verbose)
            # A model writes every section: "needs an AI model" is the extract's to say.
            figures["template_sections"].pop("needs_ai_model_labelled")
            figures["template_sections"]["held_out"].pop("needs_ai_model_labelled")
            figures["template_sections"]["input_tokens_per_transcript_token"] = round(
                sectioned.stats.prompt_tokens / max(1, sectioned.transcript_tokens), 2
            )
            figures["template_sections"]["failures"] = sectioned.failures
            figures["model"] = config.model or "(the server's default)"
            figures["endpoint"] = config.base_url
            figures["requests"] = engine.stats.requests
            figures["input_tokens_per_transcript_token"] = round(
                engine.stats.prompt_tokens / max(1, engine.transcript_tokens), 2
            )
            figures["failures"] = engine.failures
            report["engines"]["llm"] = figures
    print(json.dumps(report, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
