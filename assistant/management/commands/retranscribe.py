"""`manage.py retranscribe MEETING_ID --model ...`: a finished meeting's recordings, again."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from assistant.models import Meeting
from assistant.services.retranscription import RetranscriptionRefused, retranscribe
from assistant.transcription import ModelUnavailable


class Command(BaseCommand):
    """Replace a finished meeting's own transcript with a new recognition of its recordings."""

    help = (
        "Transcribe a finished meeting again from its recorded audio (RECORD_AUDIO, or the "
        "meeting's record_audio), for example with a bigger Whisper model, and rewrite its "
        "final notes. Our previous transcript of the meeting is replaced; Zoom's is kept."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("meeting_id", type=int, help="the meeting's id (as in its page URL)")
        parser.add_argument(
            "--model",
            default="",
            help="a Whisper CTranslate2 model folder, or a known name (tiny.en, base); "
            "default: WHISPER_MODEL",
        )
        parser.add_argument(
            "--language",
            default="",
            help="language code, or auto; default: the meeting's detected language, "
            "else WHISPER_LANGUAGE",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        meeting_id: int = options["meeting_id"]
        try:
            done = retranscribe(
                meeting_id,
                model=options["model"],
                language=options["language"],
                progress=self.stdout.write,
            )
        except Meeting.DoesNotExist:
            raise CommandError(f"no meeting {meeting_id}") from None
        except (RetranscriptionRefused, ModelUnavailable, ValueError) as refused:
            raise CommandError(str(refused)) from None
        self.stdout.write(
            self.style.SUCCESS(
                f"meeting {meeting_id}: {done.segments} segments from {done.stretches} stretches "
                f"of {done.tracks} participants ({done.audio_s:.0f} s of audio) with "
                f"{done.model} in {done.decode_s:.1f} s; final notes queued"
            )
        )
        if done.asr_track_added:
            self.stdout.write(
                "The meeting had Zoom's transcript only: ours is now a second track. Notes "
                "follow the meeting's primary track (its page's \"Notes from\" choice)."
            )
