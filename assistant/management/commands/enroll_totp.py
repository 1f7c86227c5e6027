"""`manage.py enroll_totp USERNAME [--replace]`: give a staff user a TOTP second factor."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError, CommandParser

from assistant.services import second_factor


class Command(BaseCommand):
    help = "Enroll a TOTP authenticator for a user (STAFF_2FA) and print its secret and URI."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument(
            "--replace", action="store_true", help="remove the user's devices first"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError(f"No user {options['username']!r}.")
        try:
            device = second_factor.enroll(user, replace=options["replace"])
        except second_factor.SecondFactorError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"Secret (type it into the app): {second_factor.secret_of(device)}")
        self.stdout.write(f"URI (or make a QR code of it): {device.config_url}")
        if not user.is_staff:
            self.stdout.write("Note: the second factor is only asked of staff.")
