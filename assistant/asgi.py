"""ASGI entry point: Django for HTTP, Channels for the live viewer socket."""

from __future__ import annotations

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "assistant.settings")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402  (needs Django set up first)
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.conf import settings  # noqa: E402

from assistant import jobs  # noqa: E402
from assistant.metrics import serve_metrics  # noqa: E402
from assistant.origins import TrustedOriginValidator  # noqa: E402
from assistant.routing import websocket_urlpatterns  # noqa: E402
from assistant.wiring.beat import start_in_process_beat  # noqa: E402
from assistant.wiring.http_limits import BodyLimits, limit_request_reading  # noqa: E402
from assistant.wiring.web_process import (  # noqa: E402
    freeze_startup_heap,
    reap_finished_requests_at_once,
    skip_twisted_form_parsing,
)
from rtms_ingest.webhooks.endpoint import ZoomWebhookEndpoint  # noqa: E402

WEBHOOK_PATH = "/webhooks/zoom/"

application = ProtocolTypeRouter(
    {
        "http": ZoomWebhookEndpoint(
            django_asgi_app, WEBHOOK_PATH, settings.ZOOM_WEBHOOK_MAX_BODY_BYTES
        ),
        # Our own origins only (SITE_URL, DJANGO_CSRF_TRUSTED_ORIGINS), not ALLOWED_HOSTS.
        "websocket": TrustedOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)

if settings.WEB_METRICS_PORT:
    if settings.RTMS_INGEST_IN_PROCESS:
        # The embedded shape: this process is the ingest too, and shows its figures.
        from prometheus_client import REGISTRY

        from rtms_ingest.runtime.embedded import running_supervisor
        from rtms_ingest.runtime.metrics import RunningIngestCollector

        REGISTRY.register(RunningIngestCollector(running_supervisor))
    # A port of its own, never a path of the site: the figures are for the operators' scraper.
    serve_metrics(settings.WEB_METRICS_PORT)

# Jobs are submitted by name: a name no task answers to fails here, before the first job.
jobs.check_app_jobs()

# The embedded shape has no celery beat: its retention tasks run on a thread of this process.
start_in_process_beat()

# Bodies are capped and requests timed while daphne's Twisted reads them, before the app runs.
limit_request_reading(
    BodyLimits(settings.HTTP_MAX_BODY_BYTES, {WEBHOOK_PATH: settings.ZOOM_WEBHOOK_MAX_BODY_BYTES}),
    settings.HTTP_READ_TIMEOUT_S,
)

# Last, once everything the process keeps is built (see web_process for the measurements).
skip_twisted_form_parsing()
reap_finished_requests_at_once()
freeze_startup_heap()
