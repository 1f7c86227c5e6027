"""`manage.py run_demo`: the embedded product with the simulator playing a meeting into it."""

from __future__ import annotations

import asyncio
import logging
import os
from functools import partial
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from assistant import jobs
from assistant.models import ZoomUserLink
from rtms_ingest.runtime import demo
from rtms_ingest.runtime.embedded import before_daphne_shutdown, in_process_supervisor

log = logging.getLogger(__name__)
DEMO_USERNAME = "demo"


class Command(BaseCommand):
    """Migrate, create the demo user, serve on daphne and play the sample meeting."""

    help = "Serve the dashboard with the ingest in-process and a simulated meeting playing."
    requires_system_checks: list[str] = []  # checked after the demo secrets are in place

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument(
            "--no-playback",
            action="store_true",
            help="serve without playing a meeting when the first page is opened",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.REDIS_URL:
            raise CommandError("run_demo is the embedded shape: unset REDIS_URL.")
        self._use_demo_secrets()
        if not os.environ.get("TRANSCRIPTION"):
            # The demo shows our own captions, with Zoom's transcript one click away.
            settings.TRANSCRIPTION = "both"
        if not os.environ.get("RTMS_MEDIA", "").strip():
            # The sample meeting shares slides and one camera: the demo shows them.
            settings.RTMS_MEDIA = ["transcript", "chat", "audio", "share", "video"]
        self.check(display_num_errors=False)
        call_command("migrate", interactive=False, verbosity=0)
        password = self._ensure_demo_user()
        url = f"http://{options['host']}:{options['port']}"
        if not os.environ.get("SITE_URL", "").strip():
            # The live socket trusts only the site's own origin: here, where the demo serves.
            settings.SITE_URL = url
        play = not options["no_playback"]
        self.stdout.write(
            self.style.SUCCESS(f"\nMeeting Assistant demo: {url}/\n")
            + f"  sign in as  {DEMO_USERNAME} / {password}  (also in {demo.password_file()})\n"
            + f"  meeting     {demo.meeting_dir()} at speed {settings.DEMO_SPEED}\n"
            + (
                "              starts when you open the first page after signing in\n"
                if play
                else ""
            )
            + f"  captions    TRANSCRIPTION={settings.TRANSCRIPTION}\n"
            + f"  media       RTMS_MEDIA={','.join(settings.RTMS_MEDIA)}\n"
            + "  Ctrl-C stops it.\n"
        )
        self._serve(options["host"], options["port"], url, play=play)

    def _use_demo_secrets(self) -> None:
        """The simulator and the app share the process, so invented secrets match on both sides."""
        settings.DEMO_SIMULATOR = True
        settings.RTMS_INGEST_IN_PROCESS = True
        # The demo's Zoom is the simulator on loopback over ws://: allowed as a user testing
        # against it would (RTMS_ALLOWED_HOSTS, RTMS_ALLOW_INSECURE_WS), unless set already.
        if not os.environ.get("RTMS_ALLOWED_HOSTS", "").strip():
            settings.RTMS_ALLOWED_HOSTS = [demo.SIMULATOR_HOST]
        if not os.environ.get("RTMS_ALLOW_INSECURE_WS", "").strip():
            settings.RTMS_ALLOW_INSECURE_WS = True
        for name in ("ZOOM_CLIENT_ID", "ZOOM_CLIENT_SECRET", "ZOOM_WEBHOOK_SECRET_TOKEN"):
            if not getattr(settings, name):
                setattr(settings, name, demo.demo_secret(name))

    def _ensure_demo_user(self) -> str:
        password = demo.demo_secret("PASSWORD")
        user, _ = get_user_model().objects.get_or_create(
            username=DEMO_USERNAME, defaults={"is_staff": True}
        )
        if not user.is_staff or not user.check_password(password):
            # Only when it changed: a new hash would sign out every open dashboard.
            user.is_staff = True
            user.set_password(password)
            user.save()
        ZoomUserLink.objects.get_or_create(
            user=user, defaults={"zoom_user_id": demo.DEMO_OPERATOR_ID}
        )
        return password

    def _serve(self, host: str, port: int, url: str, *, play: bool) -> None:
        from daphne.endpoints import build_endpoint_description_strings
        from daphne.server import Server

        from assistant.asgi import application
        from assistant.wiring.http_limits import APPLICATION_TIMEOUT_S

        def ready() -> None:
            loop = asyncio.get_event_loop()
            loop.call_soon(in_process_supervisor)
            before_daphne_shutdown(demo.finish_playbacks)
            before_daphne_shutdown(partial(asyncio.to_thread, jobs.shutdown))
            demo.enable(loop, url)
            if play:
                demo.play_on_first_page()

        Server(
            application=application,
            endpoints=build_endpoint_description_strings(host=host, port=port),
            ready_callable=ready,
            signal_handlers=True,
            http_timeout=APPLICATION_TIMEOUT_S,
        ).run()
