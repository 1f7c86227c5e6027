"""The demo: the simulator plays a recorded meeting into this very process, like Zoom would.

One simulator, started with the first playback, is the demo's whole Zoom: each playback is a
meeting in progress there whose RTMS its host (the demo user) starts, and it serves Zoom's
OAuth and REST API too, with the demo user's Zoom sign-in kept as a real one is (sealed), so the
meeting page's Pause, Resume, Stop and Start go through Zoom's REST API as in production
(ZOOM_OAUTH_BASE_URL and ZOOM_API_BASE_URL point at it).

The simulator is imported only when a meeting is played: a web process that merely renders
pages (the play button among them) never loads it.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import secrets
from pathlib import Path
from typing import TYPE_CHECKING

from django.conf import settings

from assistant.services.naming import set_topic_for_stream
from rtms_ingest.storage.database import run_db

if TYPE_CHECKING:
    from rtms_ingest.simulator import RtmsSimulator

log = logging.getLogger(__name__)

# The Zoom user id the simulated meeting is started by; the demo user is linked to it.
DEMO_OPERATOR_ID = "demo-host"
# Where the demo's simulator listens (and what run_demo lets the ingest connect to).
SIMULATOR_HOST = "127.0.0.1"

_loop: asyncio.AbstractEventLoop | None = None
_base_url = ""
_tasks: set[asyncio.Task[None]] = set()
_zoom: RtmsSimulator | None = None  # the demo's Zoom, once a playback started it
_zoom_lock: asyncio.Lock | None = None
# Set by run_demo: the sample meeting waits for a signed-in user to open a page.
_awaiting_first_page = False


def meeting_dir() -> Path:
    """The recorded meeting the demo plays."""
    if settings.DEMO_MEETING_DIR:
        return Path(settings.DEMO_MEETING_DIR)
    from rtms_ingest.simulator.fixture import SAMPLE_MEETING_DIR

    return SAMPLE_MEETING_DIR


def enable(loop: asyncio.AbstractEventLoop, base_url: str) -> None:
    """Allow playbacks on this loop, posting webhooks to the server at base_url."""
    global _loop, _base_url
    _loop, _base_url = loop, base_url.rstrip("/")


def request_sample_playback() -> bool:
    """Schedule one playback from any thread; False when the demo simulator is not enabled."""
    if _loop is None or not settings.DEMO_SIMULATOR:
        return False
    loop = _loop
    # A clean context: the caller may be a request thread whose executor dies with the request.
    loop.call_soon_threadsafe(_start_playback, loop, context=contextvars.Context())
    return True


def play_on_first_page() -> None:
    """Play the sample meeting when a signed-in user first opens a page, not at startup."""
    global _awaiting_first_page
    _awaiting_first_page = True


def awaiting_first_page() -> bool:
    """Whether the sample meeting still waits for the first page (run_demo armed it)."""
    return _awaiting_first_page


def first_page_opened() -> bool:
    """Start the awaited playback, once; True when this call started it."""
    global _awaiting_first_page
    if not _awaiting_first_page:
        return False
    _awaiting_first_page = False
    return request_sample_playback()


async def finish_playbacks(timeout_s: float = 10.0) -> None:
    """Let playing meetings end (the ingest closes them at shutdown), then cancel what is left.

    A playback's last act is Zoom's `rtms_stopped` webhook to this very server: it must be
    answered while the server still runs, or its request thread waits forever for the loop.
    """
    if not _tasks:
        return
    _, pending = await asyncio.wait(set(_tasks), timeout=timeout_s)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    if _zoom is not None:
        await _zoom.close()


def _start_playback(loop: asyncio.AbstractEventLoop) -> None:
    task = loop.create_task(play_once())
    _tasks.add(task)
    task.add_done_callback(_tasks.discard)


async def play_once() -> None:
    """Play the demo meeting once: a new meeting in progress, whose RTMS its host starts."""
    try:
        zoom = await demo_zoom()
        meeting = zoom.live_meetings.open(DEMO_OPERATOR_ID)
        playing = zoom.live_meetings.start(meeting)
        assert meeting.stream is not None
        naming = asyncio.create_task(
            _name_meeting(meeting.stream.rtms_stream_id, zoom.meeting.topic)
        )
        await playing
        naming.cancel()
        log.info("demo meeting played (stop reason %s)", meeting.stream.report.stop_reason)
    except Exception:
        log.exception("demo playback failed")


async def demo_zoom() -> RtmsSimulator:
    """The demo's Zoom (started on first use): RTMS, and Zoom's OAuth and REST API."""
    global _zoom, _zoom_lock
    _zoom_lock = _zoom_lock or asyncio.Lock()
    async with _zoom_lock:
        if _zoom is None:
            _zoom = await _start_zoom()
    return _zoom


async def _start_zoom() -> RtmsSimulator:
    from rtms_ingest.simulator import RtmsSimulator, SimulatorConfig
    from rtms_ingest.simulator.fixture import load_meeting

    meeting = await asyncio.to_thread(load_meeting, meeting_dir())
    config = SimulatorConfig(
        client_id=settings.ZOOM_CLIENT_ID,
        client_secret=settings.ZOOM_CLIENT_SECRET,
        webhook_secret_token=settings.ZOOM_WEBHOOK_SECRET_TOKEN,
        webhook_url=f"{_base_url}/webhooks/zoom/",
        speed=settings.DEMO_SPEED,
        operator_id=DEMO_OPERATOR_ID,
        host=SIMULATOR_HOST,
    )
    zoom = RtmsSimulator(meeting, config)
    await zoom.start()
    api = await zoom.serve_zoom_api(consenting_user_id=DEMO_OPERATOR_ID)
    # The demo's Zoom is the simulator, for the REST calls and a "Sign in with Zoom" alike.
    settings.ZOOM_OAUTH_BASE_URL = api.base_url
    settings.ZOOM_API_BASE_URL = f"{api.base_url}/v2"
    await run_db(_keep_host_sign_in, zoom.tokens.issue(DEMO_OPERATOR_ID))
    return zoom


def _keep_host_sign_in(tokens: dict[str, object]) -> None:
    """The demo host's Zoom tokens, kept as a real sign-in keeps them (the RTMS controls)."""
    from assistant.models import ZoomUserLink
    from assistant.services import zoom_grants
    from assistant.zoomapp.client import TokenSet

    link = ZoomUserLink.objects.filter(zoom_user_id=DEMO_OPERATOR_ID).select_related("user")
    for found in link[:1]:
        zoom_grants.store(found.user, DEMO_OPERATOR_ID, TokenSet.from_json(tokens))


async def _name_meeting(stream_id: str, topic: str) -> None:
    """Zoom's webhook has no topic (the REST API does); the demo knows the recording's."""
    for _ in range(100):
        named = await run_db(set_topic_for_stream, stream_id, topic)
        if named:
            return
        await asyncio.sleep(0.1)


def password_file() -> Path:
    """Where the demo user's password is kept (the sign-in page points there in the demo)."""
    return _secret_path("PASSWORD")


def password_hint() -> str:
    """In the demo, the password file as the sign-in page names it (relative to the checkout)."""
    if not settings.DEMO_SIMULATOR:
        return ""
    path = password_file()
    base = Path(settings.BASE_DIR)
    return str(path.relative_to(base)) if path.is_relative_to(base) else str(path)


def _secret_path(name: str) -> Path:
    return Path(settings.VAR_DIR) / f"demo-{name.lower()}"


def demo_secret(name: str) -> str:
    """A random per-checkout value for a Zoom secret the demo must invent (kept in var/)."""
    path = _secret_path(name)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(24))
        path.chmod(0o600)
    return path.read_text().strip()
