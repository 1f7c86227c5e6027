"""Local receivers for webhooks and Slack; a finished meeting whose final notes get delivered."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.contrib.auth.models import User
from pytest_django.fixtures import Settings

from assistant import jobs
from assistant.models import DeliveryTarget, Meeting, Participant
from assistant.services.deliveries import targets
from assistant.services.notes import updates
from assistant.services.transcript import record_segment
from tests.assistant.notes.conftest import MEETING_DAY, sample, sample_inputs

SECRET = "a-receivers-shared-secret-0123456789"


@dataclass(frozen=True)
class Received:
    """One request as the receiver read it."""

    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """A real HTTP server on 127.0.0.1 that records each POST and answers as scripted."""

    url: str = ""
    received: list[Received] = field(default_factory=list)
    # (status, headers) answered in turn; 200 once the script is spent.
    script: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, request: Received) -> tuple[int, dict[str, str]]:
        with self.lock:
            self.received.append(request)
            return self.script.pop(0) if self.script else (200, {})


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = {k.lower(): v for k, v in self.headers.items()}
            status, extra = receiver.answer(Received(self.path, headers, body))
            self.send_response(status)
            for name, value in extra.items():
                self.send_header(name, value)
            answer = b"ok" if status < 300 else b"nope"
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


@pytest.fixture
def make_receiver() -> Iterator[Callable[[], Receiver]]:
    """Start receivers on free loopback ports; all are stopped after the test."""
    servers: list[ThreadingHTTPServer] = []

    def start() -> Receiver:
        receiver = Receiver()
        server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(receiver))
        servers.append(server)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        receiver.url = f"http://127.0.0.1:{server.server_address[1]}"
        return receiver

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture
def receiver(make_receiver: Callable[[], Receiver]) -> Receiver:
    return make_receiver()


@pytest.fixture
def local_urls(settings: Settings) -> Iterator[None]:
    """Receivers on this machine may be called (http, loopback); short backoffs; jobs in process."""
    settings.DELIVERY_ALLOW_PRIVATE_URLS = True
    settings.SLACK_WEBHOOK_HOSTS = ["127.0.0.1"]
    settings.DELIVERY_BACKOFF_S = 0.01
    settings.DELIVERY_TIMEOUT_S = 5.0
    settings.JOBS_IN_PROCESS = True
    settings.NOTES_ENGINE = "extractive"
    settings.LLM_BASE_URL = ""
    settings.SITE_URL = "https://notes.example.com"
    yield
    jobs.shutdown()


@pytest.fixture
def ended_meeting(make_meeting: Callable[..., Meeting], host: User, local_urls: None) -> Meeting:
    """The sample meeting, recorded and ended, of a host with an email address; no final notes."""
    host.email = "host@example.com"
    host.save(update_fields=["email"])
    data = sample()
    meeting = make_meeting(
        topic=data["topic"], owner=host, state=Meeting.State.LIVE, started_at=MEETING_DAY
    )
    for p in data["participants"]:
        Participant.objects.create(meeting=meeting, zoom_user_id=p["user_id"], name=p["user_name"])
    for segment in sample_inputs():
        record_segment(meeting.pk, segment)
    jobs.shutdown()  # the rolling notes the segments asked for
    # Ended without the end's own final-notes job: each test writes them when it is ready.
    Meeting.objects.filter(pk=meeting.pk).update(state=Meeting.State.ENDED, ended_at=MEETING_DAY)
    meeting.refresh_from_db()
    return meeting


def finish_and_deliver(meeting: Meeting) -> None:
    """Write the meeting's final notes (which queues its deliveries) and run every job."""
    assert updates.finish(meeting.pk)
    jobs.shutdown()


def webhook(owner: User | None, url: str, secret: str = SECRET) -> DeliveryTarget:
    return targets.create(owner, targets.TargetInput("webhook", "Team hook", url, secret))


def slack(owner: User | None, url: str) -> DeliveryTarget:
    return targets.create(owner, targets.TargetInput("slack", "#team", url))


def email(owner: User | None, recipients: str = "") -> DeliveryTarget:
    return targets.create(owner, targets.TargetInput("email", "Mail", recipients=recipients))
