"""Generate the shipped sample meeting, rtms_ingest/simulator/sample_meetings/weekly_sync/.

Usage (from the repository root; needs espeak-ng and sox on PATH):

    .venv/bin/python scripts/generate_sample_meeting.py [--out FOLDER]

The meeting is planned below as a script of lines (speaker, text, gap before it) plus joins,
leaves and chat messages. Each line is synthesised with espeak-ng in its speaker's voice,
converted by sox to 16 kHz mono signed 16-bit, trimmed of leading and trailing silence, and
placed on that speaker's track. Start times follow from the real lengths of the synthesised
audio, and each utterance's end_s is its start_s plus that length, so the transcript timings
match the audio. Every track is silence elsewhere and lasts exactly duration_s.

Output is deterministic: the same script, espeak-ng and sox versions give byte-identical files,
so regenerating does not churn git. The folder is validated with load_meeting() at the end.
"""

from __future__ import annotations

import argparse
import array
import dataclasses
import json
import math
import subprocess
import sys
import tempfile
import wave
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO_ROOT / "rtms_ingest" / "sample_meetings" / "weekly_sync"
RATE = 16_000
# Samples quieter than this (out of 32767) count as silence when trimming espeak's padding.
SILENCE_LEVEL = 300
# Silence kept around each trimmed line so its first and last phonemes are not clipped.
EDGE_PAD_S = 0.03
# Stream time after the last event.
TAIL_S = 1.5
TOPIC = "Weekly product sync: release 2.4"
SOX_OUTPUT = ["-r", str(RATE), "-c", "1", "-b", "16", "-e", "signed-integer"]


Clip = tuple[int, "array.array[int]"]  # (first sample on the stream clock, samples)


@dataclasses.dataclass(frozen=True)
class Speaker:
    """A participant and the espeak-ng voice that speaks their lines."""

    user_id: int
    user_name: str
    voice: str
    speed: int  # words per minute
    pitch: int  # 0-99


@dataclasses.dataclass(frozen=True)
class Say:
    """A spoken line starting gap_s after the previous line ends (negative: overlap)."""

    who: str
    text: str
    gap_s: float = 0.6


@dataclasses.dataclass(frozen=True)
class Event:
    """A join, leave or chat message at_s after the end of the previous line (may be < 0)."""

    kind: str  # "join", "leave" or "chat"
    who: str
    after_s: float
    text: str = ""


SPEAKERS = {
    "priya": Speaker(16778240, "Priya Raman", "en-us+f2", 160, 60),
    "zoe": Speaker(16779264, "Zoë Müller", "en-gb+f3", 155, 55),
    "bjorn": Speaker(16780288, "Björn Åkesson", "en-us+m3", 160, 30),
    "tomas": Speaker(16781312, "Tomás Ortega", "en-gb-scotland+m1", 160, 40),
}

# Everyone but Tomás is there from the start; he joins late and Björn leaves early.
PRESENT_AT_START = ("priya", "zoe", "bjorn")

PLAN: list[Say | Event] = [
    Say(
        "priya",
        "Good morning everyone, let's start the weekly sync. "
        "Tomás is late from a customer call, so status first.",
        gap_s=0.5,
    ),
    Say(
        "zoe",
        "The new checkout page is in review. The accessibility audit found three screen "
        "reader issues, and I'm fixing them.",
    ),
    Say(
        "bjorn",
        "The payment retry job is on staging. Failed payments dropped from four percent "
        "to under one percent.",
        gap_s=0.8,
    ),
    Event("chat", "bjorn", 0.5, "Staging dashboard: https://grafana.example.com/d/payments-retry"),
    Event("join", "tomas", 0.8),
    Say("tomas", "Hi all, sorry I'm late.", gap_s=1.4),
    Say("priya", "No problem. Anything from support?"),
    Say(
        "tomas",
        "Two enterprise customers asked for invoice export as CSV. "
        "It blocks their renewals next month.",
    ),
    Say(
        "priya",
        "Okay, the main decision. Do we ship release 2.4 on Thursday without offline mode, "
        "or wait a week?",
        gap_s=0.9,
    ),
    Say("zoe", "Ship on Thursday. Offline mode still has sync bugs."),
    Say("bjorn", "Agreed. Waiting would delay the payment fixes.", gap_s=-0.4),
    Say(
        "priya",
        "Decided then. We ship 2.4 on Thursday the fourteenth of March, "
        "and offline mode moves to 2.5.",
        gap_s=0.8,
    ),
    Event("chat", "zoe", 0.3, "+1, ship it 🚀"),
    Say("priya", "Action items. Zoë, accessibility fixes by Tuesday?", gap_s=0.9),
    Say("zoe", "Yes, merged by Tuesday afternoon."),
    Say(
        "bjorn",
        "I have to drop off soon. I'll share the rollback plan for the payment job by Wednesday.",
    ),
    Say("priya", "Thanks, Björn."),
    Event("chat", "bjorn", 0.3, "Rollback plan will be in #release-2-4 by Wednesday. Bye!"),
    Event("leave", "bjorn", 1.0),
    Say("priya", "Tomás, please write the release notes by Wednesday.", gap_s=1.4),
    Say("tomas", "Will do. I'll also tell the two customers CSV export comes in 2.5."),
    Say(
        "priya",
        "Good. I'll add it to the 2.5 plan and book the customer demo for March twentieth.",
    ),
    Say("zoe", "Can someone review my pull request today? It blocks QA.", gap_s=0.8),
    Say("tomas", "I'll take it after lunch.", gap_s=0.5),
    Event("chat", "zoe", 0.4, "PR is #482, thanks Tomás!"),
    Say(
        "priya",
        "To recap: 2.4 ships Thursday without offline mode. Zoë fixes accessibility by "
        "Tuesday, Björn shares the rollback plan and Tomás the release notes by Wednesday, "
        "and I book the demo. Thanks everyone!",
        gap_s=1.0,
    ),
    Say("zoe", "Thanks, bye!", gap_s=0.5),
]


def synthesise(speaker: Speaker, text: str, workdir: Path) -> array.array[int]:
    """Return the line spoken by speaker as 16 kHz mono 16-bit samples, silence trimmed."""
    raw, converted = workdir / "espeak.wav", workdir / "16k.wav"
    voice_args = ["-v", speaker.voice, "-s", str(speaker.speed), "-p", str(speaker.pitch)]
    subprocess.run(
        ["espeak-ng", *voice_args, "-b", "1", "-z", "-w", str(raw), "--stdin"],
        input=text.encode(),
        check=True,
    )
    # -R: repeatable mode, -D: no dither, so the same input always gives the same bytes.
    subprocess.run(["sox", "-R", "-V1", str(raw), *SOX_OUTPUT, "-D", str(converted)], check=True)
    with wave.open(str(converted), "rb") as wav:
        samples = array.array("h", wav.readframes(wav.getnframes()))
    if sys.byteorder == "big":
        samples.byteswap()
    loud = [i for i, s in enumerate(samples) if abs(s) > SILENCE_LEVEL]
    pad = round(EDGE_PAD_S * RATE)
    return samples[max(0, loud[0] - pad) : loud[-1] + pad + 1]


def to_ms(t_s: float) -> float:
    """Round a time to the millisecond, as meeting.json stores it."""
    return round(t_s, 3)


@dataclasses.dataclass
class Layout:
    """The planned meeting laid out on the stream clock."""

    meeting: dict[str, object]
    duration_s: float
    clips: dict[int, list[Clip]]


def lay_out(workdir: Path) -> Layout:
    """Synthesise the plan and place every line, join, leave and chat on the stream clock."""
    join_s = dict.fromkeys(PRESENT_AT_START, 0.0)
    leave_s: dict[str, float] = {}
    utterances: list[dict[str, object]] = []
    chat: list[dict[str, object]] = []
    clips: dict[int, list[Clip]] = {s.user_id: [] for s in SPEAKERS.values()}
    cursor_s = 0.0  # end of the latest line so far
    last_s = 0.0  # latest event so far
    for step in PLAN:
        speaker = SPEAKERS[step.who]
        if isinstance(step, Event):
            at_s = to_ms(cursor_s + step.after_s)
            if step.kind == "chat":
                chat.append({"user_id": speaker.user_id, "at_s": at_s, "text": step.text})
            else:
                (join_s if step.kind == "join" else leave_s)[step.who] = at_s
            last_s = max(last_s, at_s)
            continue
        samples = synthesise(speaker, step.text, workdir)
        start_s = to_ms(cursor_s + step.gap_s)
        # Round up so the whole clip lies inside [start_s, end_s].
        end_s = math.ceil((start_s + len(samples) / RATE) * 1000) / 1000
        clips[speaker.user_id].append((round(start_s * RATE), samples))
        utterances.append(
            {"user_id": speaker.user_id, "start_s": start_s, "end_s": end_s, "text": step.text}
        )
        cursor_s = max(cursor_s, end_s)
        last_s = max(last_s, end_s)

    duration_s = round(last_s + TAIL_S, 1)
    participants = [
        {
            "user_id": s.user_id,
            "user_name": s.user_name,
            "join_s": join_s[key],
            "leave_s": leave_s.get(key),
        }
        for key, s in SPEAKERS.items()
    ]
    meeting: dict[str, object] = {
        "topic": TOPIC,
        "language": "en",
        "duration_s": duration_s,
        "generated_by": "scripts/generate_sample_meeting.py (espeak-ng, sox)",
        "participants": participants,
        "utterances": utterances,
        "chat": chat,
        # Pictures made by scripts/generate_sample_slides.py (Pillow), kept beside the audio.
        "share": SHARE,
        "video": [
            {"user_id": 16779264, "start_s": 0.0, "end_s": 114.0, "image": "video/16779264.png"}
        ],
    }
    return Layout(meeting, duration_s, clips)


# Priya shares three slides while the decision, the action items and the next release are
# discussed (the third names "Heron", a word nobody says: search finds it on the slide only).
SHARE = [
    {
        "user_id": 16778240,
        "start_s": 35.0,
        "end_s": 97.0,
        "slides": [
            {"at_s": 35.0, "image": "share/1-release-decision.png"},
            {"at_s": 58.0, "image": "share/2-action-items.png"},
            {"at_s": 83.5, "image": "share/3-next-release.png"},
        ],
    }
]


def write_track(path: Path, clips: list[Clip], nframes: int) -> None:
    """Write one participant's track: their clips at their offsets, silence elsewhere."""
    track = array.array("h", bytes(2 * nframes))
    for offset, samples in clips:
        if any(track[offset : offset + len(samples)]):
            raise SystemExit(f"{path.name}: two lines of the same speaker overlap")
        track[offset : offset + len(samples)] = samples
    if sys.byteorder == "big":
        track.byteswap()
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(RATE)
        wav.writeframes(track.tobytes())


def generate(out: Path) -> None:
    """Write meeting.json and audio/<user_id>.wav into out, replacing any previous ones."""
    with tempfile.TemporaryDirectory() as tmp:
        layout = lay_out(Path(tmp))
    audio_dir = out / "audio"
    audio_dir.mkdir(parents=True, exist_ok=True)
    for old in audio_dir.glob("*.wav"):
        old.unlink()
    nframes = round(layout.duration_s * RATE)
    for user_id, user_clips in layout.clips.items():
        if user_clips:
            write_track(audio_dir / f"{user_id}.wav", user_clips, nframes)
    text = json.dumps(layout.meeting, indent=2, ensure_ascii=False) + "\n"
    (out / "meeting.json").write_text(text, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="meeting folder to write")
    args = parser.parse_args()
    generate(args.out)

    # Imported here: the script runs with scripts/ on sys.path, not the repository root.
    sys.path.insert(0, str(REPO_ROOT))
    from rtms_ingest.simulator.fixture import load_meeting

    meeting = load_meeting(args.out)
    size = sum(f.stat().st_size for f in args.out.rglob("*") if f.is_file())
    print(
        f"{args.out}: {meeting.duration_s} s, {len(meeting.participants)} participants, "
        f"{len(meeting.utterances)} utterances, {len(meeting.chat)} chat, {size / 1e6:.1f} MB"
    )


if __name__ == "__main__":
    main()
