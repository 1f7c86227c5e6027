"""LLM input tokens per meeting-hour over the meeting's own transcript tokens: ours vs naive.

A 60-minute meeting is synthesised from the sample meeting's utterances (played back to back,
clock shifted). Both strategies are replayed over it in the same run, and every prompt is built
by the code that would send it:

- ours: rolling updates when NOTES_UPDATE_SEGMENTS segments or NOTES_UPDATE_SECONDS seconds of
  new speech arrived, each sending the system prompt, the JSON schema, the current notes
  (bounded) and only the new segments (assistant/services/notes/llm_engine.py update_messages);
  then the final notes (map-reduce over LLM_CHUNK_TOKENS chunks, reduce in fours);
- "whole transcript every 30 s" (Zoom's starter kit): every 30 s of meeting time, the same
  system prompt and schema plus the whole transcript so far.

The current notes that ours sends are the extractive engine's notes at that point (a stand-in
of realistic size; the schema bounds the LLM's). Tokens are estimated as 4 characters each
(llm_engine.approx_tokens) for both sides, so the ratio does not hinge on a tokenizer.

With --template KEY (a built-in template: standup, sales_call, one_to_one) every prompt
carries that template's sections, as a meeting with it sends them; the default template adds
nothing to any prompt.

    python -m benchmarks.notes_tokens [--minutes 60] [--segments N] [--seconds S] [--template K]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
from pathlib import Path
from typing import Any

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "assistant.settings")
django.setup()

from django.conf import settings  # noqa: E402  (after django.setup)

from assistant.services.notes import extractive, llm_client, llm_engine, templates  # noqa: E402
from assistant.services.notes.draft import NotesDraft, Utterance  # noqa: E402
from assistant.services.notes.llm_schemas import final_schema, rolling_schema  # noqa: E402
from assistant.services.notes.templates import Template  # noqa: E402

SAMPLE = (
    Path(__file__).resolve().parents[1]
    / "rtms_ingest/simulator/sample_meetings/weekly_sync/meeting.json"
)
NAIVE_EVERY_S = 30
SAID_ON = dt.date(2024, 3, 11)


def synthesise(minutes: int) -> list[Utterance]:
    """The sample's utterances back to back until the meeting lasts `minutes`."""
    data = json.loads(SAMPLE.read_text())
    names = {p["user_id"]: p["user_name"] for p in data["participants"]}
    period_ms = round(data["duration_s"] * 1000) + 2000
    out: list[Utterance] = []
    lap = 0
    while True:
        for u in data["utterances"]:
            start = lap * period_ms + round(u["start_s"] * 1000)
            if start >= minutes * 60_000:
                return out
            n = len(out) + 1
            end = lap * period_ms + round(u["end_s"] * 1000)
            out.append(Utterance(n, n, names[u["user_id"]], start, end, u["text"]))
        lap += 1


def prompt_tokens(messages: list[Any], schema: type[Any]) -> int:
    """Input tokens of one request: its messages and the JSON schema sent with them."""
    text = "".join(str(m["content"]) for m in messages)
    return llm_engine.approx_tokens(text) + llm_engine.approx_tokens(
        json.dumps(llm_client.wire_schema(schema))
    )


def ours(
    meeting: list[Utterance], segments: int, seconds: int, template: Template
) -> dict[str, Any]:
    """Rolling updates on our trigger, then final notes by map-reduce."""
    notes, covered, covered_end, calls, rolling = NotesDraft(), 0, None, 0, 0
    for index in range(len(meeting)):
        new = meeting[covered : index + 1]
        since = covered_end if covered_end is not None else new[0].start_ms
        if len(new) < segments and new[-1].end_ms - since < seconds * 1000:
            continue
        messages = llm_engine.update_messages(notes, new, template)
        rolling += prompt_tokens(messages, rolling_schema(template))
        calls += 1
        notes = extractive.update(notes, new, said_on=SAID_ON, speakers=[], template=template)
        covered, covered_end = index + 1, max(u.end_ms for u in new)
    # The rolling notes are the LLM's and current: the final refines them with the rest.
    tail = meeting[covered:]
    final = prompt_tokens(
        [{"content": llm_engine.system_prompt(template, final=True)},
         {"content": llm_engine.notes_json(notes, template) + llm_engine.transcript_block(tail)}],
        final_schema(template),
    )  # fmt: skip
    final_calls = 1
    mapped, mapped_calls = final_notes(meeting, template)
    return {
        "rolling_calls": calls,
        "rolling_input_tokens": rolling,
        "final_calls": final_calls,
        "final_input_tokens": final,
        # When the rolling notes are not the LLM's (it was unreachable): map-reduce everything.
        "final_map_reduce_calls": mapped_calls,
        "final_map_reduce_input_tokens": mapped,
    }


def final_notes(meeting: list[Utterance], template: Template) -> tuple[int, int]:
    """Input tokens and calls of the final notes: map over chunks, reduce in fours."""
    chunks = llm_engine.chunk(meeting, settings.LLM_CHUNK_TOKENS)
    tokens, calls, partials = 0, 0, []
    for part in chunks:
        messages = llm_engine.update_messages(NotesDraft(), part, template)
        tokens += prompt_tokens(messages, rolling_schema(template))
        calls += 1
        partials.append(
            extractive.update(NotesDraft(), part, said_on=SAID_ON, speakers=[], template=template)
        )
    system = llm_engine.system_prompt(template, final=True)
    while len(partials) > 1:
        merged = []
        for i in range(0, len(partials), 4):
            group = partials[i : i + 4]
            text = "\n".join(llm_engine.notes_json(p, template) for p in group)
            tokens += llm_engine.approx_tokens(system + text)
            tokens += llm_engine.approx_tokens(
                json.dumps(llm_client.wire_schema(final_schema(template)))
            )
            calls += 1
            merged.append(group[-1])
        partials = merged
    return tokens, calls


def naive(meeting: list[Utterance], template: Template) -> dict[str, Any]:
    """The whole transcript so far, every 30 s of meeting time."""
    end_ms = meeting[-1].end_ms
    tokens, calls = 0, 0
    for at in range(NAIVE_EVERY_S * 1000, end_ms + NAIVE_EVERY_S * 1000, NAIVE_EVERY_S * 1000):
        said = [u for u in meeting if u.end_ms <= at]
        if not said:
            continue
        messages = llm_engine.update_messages(NotesDraft(), said, template)
        tokens += prompt_tokens(messages, rolling_schema(template))
        calls += 1
    return {"calls": calls, "input_tokens": tokens}


def main() -> None:
    """Run both strategies over the same synthetic meeting and print JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=int, default=60)
    parser.add_argument("--segments", type=int, default=settings.NOTES_UPDATE_SEGMENTS)
    parser.add_argument("--seconds", type=int, default=settings.NOTES_UPDATE_SECONDS)
    parser.add_argument("--template", choices=[t.key for t in templates.BUILT_IN],
                        default=templates.DEFAULT.key)  # fmt: skip
    args = parser.parse_args()
    template = templates.built_in(args.template) or templates.DEFAULT
    meeting = synthesise(args.minutes)
    # The meeting's transcript as a file would hold it: "Speaker: text", a line each.
    transcript = sum(llm_engine.approx_tokens(f"{u.speaker}: {u.text}\n") for u in meeting)
    hours = meeting[-1].end_ms / 3_600_000
    mine = ours(meeting, args.segments, args.seconds, template)
    theirs = naive(meeting, template)
    rolling_ratio = mine["rolling_input_tokens"] / transcript
    total_ratio = (mine["rolling_input_tokens"] + mine["final_input_tokens"]) / transcript
    print(
        json.dumps(
            {
                "meeting": {
                    "minutes": round(hours * 60, 1),
                    "segments": len(meeting),
                    "transcript_tokens": transcript,
                },
                "template": template.key,
                "settings": {
                    "NOTES_UPDATE_SEGMENTS": args.segments,
                    "NOTES_UPDATE_SECONDS": args.seconds,
                    "LLM_CHUNK_TOKENS": settings.LLM_CHUNK_TOKENS,
                },
                "ours": mine
                | {
                    "input_tokens_per_hour": round(
                        (mine["rolling_input_tokens"] + mine["final_input_tokens"]) / hours
                    ),
                    "ratio_rolling": round(rolling_ratio, 3),
                    "ratio_with_final": round(total_ratio, 3),
                },
                "whole_transcript_every_30s": theirs
                | {
                    "input_tokens_per_hour": round(theirs["input_tokens"] / hours),
                    "ratio": round(theirs["input_tokens"] / transcript, 3),
                },
                "target": "ours ratio <= 2",
                "tokens": "estimated, 4 characters a token, same estimator for both",
                "machine": f"{platform.machine()}, {os.cpu_count()} cores",
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
