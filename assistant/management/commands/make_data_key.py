"""`manage.py make_data_key`: print a fresh key for DATA_ENCRYPTION_KEYS."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from assistant.services import sealing


class Command(BaseCommand):
    help = "Print a new data encryption key (put it first in DATA_ENCRYPTION_KEYS)."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(sealing.new_key())
