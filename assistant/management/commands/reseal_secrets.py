"""`manage.py reseal_secrets`: seal every stored secret under the first DATA_ENCRYPTION_KEYS key.

Run after putting a new key first (the old ones still listed); then the old keys can go.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Model

from assistant.models import DeliveryTarget, ZoomGrant
from assistant.services import sealing

# Every sealed column of the app: a new one is listed here.
SEALED_FIELDS: list[tuple[type[Model], str]] = [
    (DeliveryTarget, "url_sealed"),
    (DeliveryTarget, "secret_sealed"),
    (ZoomGrant, "access_token_sealed"),
    (ZoomGrant, "refresh_token_sealed"),
]


class Command(BaseCommand):
    help = "Re-encrypt every stored secret with the first key of DATA_ENCRYPTION_KEYS."

    def handle(self, *args: Any, **options: Any) -> None:
        if sealing.uses_derived_key():
            self.stdout.write("DATA_ENCRYPTION_KEYS is not set: sealing with the derived key.")
        for model, field in SEALED_FIELDS:
            try:
                count = sealing.reseal_field(model, field)
            except sealing.SealingError as exc:
                raise CommandError(f"{model.__name__}.{field}: {exc}") from None
            self.stdout.write(f"{model.__name__}.{field}: {count} resealed")
