"""`manage.py simulate_meeting`: play a recorded meeting as Zoom RTMS would, over real sockets."""

from __future__ import annotations

import asyncio
import signal
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from rtms_ingest.protocol import StopReason
from rtms_ingest.simulator import (
    PRODUCTS,
    Faults,
    RtmsSimulator,
    SimulatorConfig,
    StreamReport,
    WebhookDeliveryError,
)
from rtms_ingest.simulator.fixture import MeetingFixtureError, RecordedMeeting, load_meeting

_CREDENTIALS = ("ZOOM_CLIENT_ID", "ZOOM_CLIENT_SECRET", "ZOOM_WEBHOOK_SECRET_TOKEN")


class Command(BaseCommand):
    """Serve RTMS signaling/media sockets and play MEETING_DIR to the app behind --webhook-url."""

    # The simulator stands in for Zoom: the app's own checks are not its business.
    requires_system_checks: list[str] = []
    help = (
        "Play a recorded meeting as Zoom RTMS: post a signed *.rtms_started webhook to "
        "--webhook-url, serve the signaling and media WebSockets, stream events, transcript, "
        "chat and audio, then post *.rtms_stopped."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("meeting_dir", help="folder holding meeting.json (and audio/)")
        parser.add_argument("--webhook-url", required=True, help="where to POST the webhooks")
        parser.add_argument("--host", default="127.0.0.1", help="interface to listen on")
        parser.add_argument("--port", type=int, default=0, help="port (0: any free port)")
        parser.add_argument(
            "--advertise-host", help="host name put in the URLs (default: --host), e.g. localhost"
        )
        parser.add_argument("--speed", type=float, default=1.0, help="2.0 plays twice as fast")
        parser.add_argument("--repeat", action="store_true", help="play again, forever")
        parser.add_argument("--product", choices=sorted(PRODUCTS), default="meeting")
        parser.add_argument("--keepalive-interval", type=float, default=30.0, metavar="S")
        parser.add_argument("--signaling-timeout", type=float, default=60.0, metavar="S")
        parser.add_argument("--media-timeout", type=float, default=65.0, metavar="S")
        parser.add_argument(
            "--reconnect-window",
            type=float,
            default=60.0,
            metavar="S",
            help="how long a stream whose client vanished waits for a rejoin before it ends "
            "with AWAIT_RECONNECTION_TIMEOUT (19)",
        )
        parser.add_argument("--transcript-delay", type=float, default=0.2, metavar="S")
        parser.add_argument("--connect-timeout", type=float, default=30.0, metavar="S")
        parser.add_argument("--status-table", choices=("A", "B"), default="A")
        parser.add_argument("--certfile", help="TLS certificate (PEM): serve wss://")
        parser.add_argument("--keyfile", help="TLS private key (PEM) for --certfile")
        faults = parser.add_argument_group("fault injection")
        faults.add_argument("--drop-socket-at", type=float, metavar="S")
        faults.add_argument("--drop-socket", choices=("signaling", "media"), default="signaling")
        faults.add_argument("--stop-keepalives", action="store_true")
        faults.add_argument("--malformed-frame-at", type=float, metavar="S")
        faults.add_argument("--refuse-signature", action="store_true")
        faults.add_argument("--bad-signature-mode", choices=("status", "close"), default="status")
        faults.add_argument(
            "--chat-group-events-at",
            type=float,
            metavar="S",
            help="play chat-group events 10-14 (and one of an odd shape) at this stream time",
        )
        faults.add_argument(
            "--concurrency-limited",
            action="store_true",
            help="post rtms_concurrency_limited instead of rtms_started (the app is at its limit)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            meeting = load_meeting(options["meeting_dir"])
        except MeetingFixtureError as exc:
            raise CommandError(f"cannot play this meeting: {exc}") from None
        config = self._config(options)
        try:
            asyncio.run(self._run(meeting, config, repeat=options["repeat"]))
        except WebhookDeliveryError as exc:
            raise CommandError(str(exc)) from None
        except (KeyboardInterrupt, asyncio.CancelledError):
            self.stdout.write("stopped")

    def _config(self, options: dict[str, Any]) -> SimulatorConfig:
        missing = [name for name in _CREDENTIALS if not getattr(settings, name, "")]
        if missing:
            raise CommandError(
                f"set {', '.join(missing)} in the environment: the simulator signs webhooks and "
                "checks RTMS handshake signatures with the same credentials as the app"
            )
        try:
            return SimulatorConfig(
                client_id=settings.ZOOM_CLIENT_ID,
                client_secret=settings.ZOOM_CLIENT_SECRET,
                webhook_secret_token=settings.ZOOM_WEBHOOK_SECRET_TOKEN,
                webhook_url=options["webhook_url"],
                host=options["host"],
                advertised_host=options["advertise_host"],
                port=options["port"],
                speed=options["speed"],
                product=options["product"],
                keepalive_interval_s=options["keepalive_interval"],
                signaling_timeout_s=options["signaling_timeout"],
                media_timeout_s=options["media_timeout"],
                reconnect_window_s=options["reconnect_window"],
                transcript_delay_s=options["transcript_delay"],
                connect_timeout_s=options["connect_timeout"],
                status_table=options["status_table"],
                ssl_certfile=options["certfile"],
                ssl_keyfile=options["keyfile"],
                faults=Faults(
                    drop_socket_at_s=options["drop_socket_at"],
                    drop_socket=options["drop_socket"],
                    stop_keepalives=options["stop_keepalives"],
                    malformed_frame_at_s=options["malformed_frame_at"],
                    refuse_signature=options["refuse_signature"],
                    bad_signature_mode=options["bad_signature_mode"],
                    concurrency_limited=options["concurrency_limited"],
                    chat_group_events_at_s=options["chat_group_events_at"],
                ),
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from None

    async def _run(self, meeting: RecordedMeeting, config: SimulatorConfig, repeat: bool) -> None:
        # SIGTERM ends the stream being played (TERMINATED, EXIT_SIGNAL) before exiting.
        main = asyncio.current_task()
        if main is not None:
            asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, main.cancel)
        try:
            simulator = RtmsSimulator(meeting, config)
            await simulator.start()
        except OSError as exc:
            raise CommandError(f"cannot listen on {config.host}:{config.port}: {exc}") from None
        try:
            self.stdout.write(
                f"RTMS simulator listening on {simulator.base_url} "
                f"({meeting.topic or meeting.path.name!r}, {meeting.duration_s:g} s "
                f"at speed {config.speed:g}, product {config.product})"
            )
            while True:
                stream = simulator.new_stream()
                self.stdout.write(
                    f"stream {stream.rtms_stream_id} ({stream.id_field} {stream.owner_id}): "
                    f"posting {config.product_info.started_event} to {config.webhook_url}"
                )
                self._summary(await simulator.play(stream))
                if not repeat:
                    return
        finally:
            await simulator.close()

    def _summary(self, report: StreamReport) -> None:
        reason = report.stop_reason
        name: str | int | None = reason
        if reason is not None and reason in StopReason._value2member_map_:
            name = StopReason(reason).name
        self.stdout.write(
            f"stream {report.rtms_stream_id} ended: stop_reason {reason} ({name}), "
            f"joined={report.joined}, {len(report.frames('transcript'))} transcripts, "
            f"{len(report.frames('chat'))} chat messages, {report.audio_bytes} audio bytes sent, "
            f"{report.rejoins} rejoins, {len(report.undelivered())} transcripts undelivered"
        )
