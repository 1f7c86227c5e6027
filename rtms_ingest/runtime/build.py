"""Building a supervisor from settings, for run_ingest and for the embedded web process."""

from __future__ import annotations

import ssl

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from rtms_ingest.client import RtmsCredentials, UrlPolicy
from rtms_ingest.cluster.admission import LoadGauge
from rtms_ingest.cluster.command_queue import CommandQueue, InProcessCommandQueue, RedisCommandQueue
from rtms_ingest.cluster.leases import InMemoryLeases, Leases, RedisLeases
from rtms_ingest.cluster.registry import RedisRegistry, Registry, SoloRegistry
from rtms_ingest.cluster.supervisor import Supervisor, new_holder_id
from rtms_ingest.protocol import MediaType
from rtms_ingest.storage.streams import MeetingStreams


def credentials_from_settings() -> RtmsCredentials:
    """The RTMS app credentials; empty values make every handshake fail loudly at Zoom."""
    return RtmsCredentials(settings.ZOOM_CLIENT_ID, settings.ZOOM_CLIENT_SECRET)


def ssl_context_from_settings() -> ssl.SSLContext | None:
    """A context trusting RTMS_CA_FILE (a private CA or the simulator's cert), if configured."""
    if not settings.RTMS_CA_FILE:
        return None
    return ssl.create_default_context(cafile=settings.RTMS_CA_FILE)


def url_policy_from_settings() -> UrlPolicy:
    """Where the ingest may connect: RTMS_ALLOWED_HOSTS, over wss:// (RTMS_ALLOW_INSECURE_WS)."""
    try:
        return UrlPolicy.from_settings(settings.RTMS_ALLOWED_HOSTS, settings.RTMS_ALLOW_INSECURE_WS)
    except ValueError as exc:
        raise ImproperlyConfigured(str(exc)) from None


_MEDIA_NAMES = {
    "transcript": MediaType.TRANSCRIPT,
    "chat": MediaType.CHAT,
    "audio": MediaType.AUDIO,
    "share": MediaType.DESKSHARE,
    "video": MediaType.VIDEO,
}


def media_from_settings() -> MediaType:
    """The media types RTMS_MEDIA names: the most the ingest may ask Zoom for."""
    media = MediaType(0)
    for name in settings.RTMS_MEDIA:
        if name not in _MEDIA_NAMES:
            raise ImproperlyConfigured(f"RTMS_MEDIA: unknown media {name!r}; use {_MEDIA_NAMES}")
        media |= _MEDIA_NAMES[name]
    if not media:
        raise ImproperlyConfigured("RTMS_MEDIA must name at least one media type")
    return media


def dead_after_s() -> float:
    """How long an ingest may miss its beats (about one a second) before it counts as dead."""
    return max(10.0, 2.0 * settings.RTMS_LEASE_TTL_S)


def build_supervisor(*, embedded: bool) -> Supervisor:
    """A supervisor wired to Redis (production) or to in-process queue and leases (embedded)."""
    holder_id = new_holder_id()
    queue: CommandQueue
    leases: Leases
    registry: Registry
    if embedded:
        queue, leases, registry = InProcessCommandQueue(), InMemoryLeases(), SoloRegistry()
    else:
        queue = RedisCommandQueue(settings.REDIS_URL, holder_id)
        leases = RedisLeases(settings.REDIS_URL)
        registry = RedisRegistry(settings.REDIS_URL, dead_after_s=dead_after_s())
    return Supervisor(
        queue=queue,
        leases=leases,
        registry=registry,
        credentials=credentials_from_settings(),
        store=MeetingStreams(),
        holder_id=holder_id,
        lease_ttl_s=settings.RTMS_LEASE_TTL_S,
        handover_timeout_s=settings.RTMS_HANDOVER_TIMEOUT_S,
        max_streams=settings.RTMS_MAX_STREAMS,
        ssl_context=ssl_context_from_settings(),
        url_policy=url_policy_from_settings(),
        media=media_from_settings(),
        keepalive_timeout_s=settings.RTMS_KEEPALIVE_TIMEOUT_S,
        media_backlog_bytes=settings.RTMS_MEDIA_BACKLOG_BYTES,
        # The embedded shape shares its loop with the web app: admission by load is for the
        # dedicated ingest processes.
        gauge=None
        if embedded
        else LoadGauge(
            max_loop_lag_ms=settings.RTMS_ADMIT_MAX_LOOP_LAG_MS,
            max_cpu=settings.RTMS_ADMIT_MAX_CPU,
        ),
    )
