"""System checks for settings that are risky or missing (ids are stable: assistant.W00x/E00x)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, Warning, register


@register()
def check_zoom_secrets(app_configs: Any = None, **kwargs: Any) -> list[Error | Warning]:
    """Webhooks are refused and RTMS handshakes cannot be signed without these secrets."""
    messages: list[Error | Warning] = []
    if not settings.ZOOM_WEBHOOK_SECRET_TOKEN:
        messages.append(
            Warning(
                "ZOOM_WEBHOOK_SECRET_TOKEN is not set: every Zoom webhook will be refused (503).",
                hint="Copy the Secret Token from your app's Feature page in the Zoom Marketplace.",
                id="assistant.W001",
            )
        )
    if not (settings.ZOOM_CLIENT_ID and settings.ZOOM_CLIENT_SECRET):
        messages.append(
            Warning(
                "ZOOM_CLIENT_ID / ZOOM_CLIENT_SECRET are not set: RTMS streams cannot be joined.",
                hint="Set both from your app's App Credentials page.",
                id="assistant.W002",
            )
        )
    return messages


@register(deploy=True)
def check_production_secret_key(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    """Several processes (web, ingest, workers) must share one key that survives redeploys."""
    if settings.EMBEDDED or settings.SECRET_KEY_FROM_ENV:
        return []
    return [
        Error(
            "DJANGO_SECRET_KEY is not set: each container would invent its own key and every "
            "session would end at the next deploy.",
            hint="Set DJANGO_SECRET_KEY (or DJANGO_SECRET_KEY_FILE) for every process.",
            id="assistant.E001",
        )
    ]


@register(deploy=True)
def check_production_security(app_configs: Any = None, **kwargs: Any) -> list[Warning]:
    """Settings that are fine on a laptop and wrong on a server (run with --deploy)."""
    messages: list[Warning] = []
    if settings.DEBUG:
        messages.append(Warning("DJANGO_DEBUG is on.", id="assistant.W010"))
    if not settings.SESSION_COOKIE_SECURE:
        messages.append(
            Warning(
                "SESSION_COOKIE_SECURE is off: session cookies can travel over plain HTTP.",
                hint="Set SESSION_COOKIE_SECURE=1 behind HTTPS.",
                id="assistant.W011",
            )
        )
    if "*" in settings.ALLOWED_HOSTS:
        messages.append(
            Warning(
                "DJANGO_ALLOWED_HOSTS contains '*': any Host header is accepted.",
                hint="List the site's host names. (The live socket checks Origin against "
                "SITE_URL and DJANGO_CSRF_TRUSTED_ORIGINS either way.)",
                id="assistant.W013",
            )
        )
    if not settings.SITE_URL.startswith("https://"):
        messages.append(
            Warning(
                "SITE_URL is not https: the Zoom client refuses the panel, and the live socket "
                "trusts only this origin.",
                hint="Set SITE_URL to the public https:// origin of the site.",
                id="assistant.W014",
            )
        )
    if settings.SESSION_COOKIE_SAMESITE == "None" and not settings.SESSION_COOKIE_SECURE:
        messages.append(
            Warning(
                "SESSION_COOKIE_SAMESITE=None without SESSION_COOKIE_SECURE: browsers drop it.",
                hint="Set SESSION_COOKIE_SECURE=1 (SameSite=None cookies must be Secure).",
                id="assistant.W016",
            )
        )
    if "unsafe-inline" in settings.CONTENT_SECURITY_POLICY:
        messages.append(
            Warning(
                "CONTENT_SECURITY_POLICY allows 'unsafe-inline': injected scripts would run.",
                hint="Pages use per-request nonces; remove 'unsafe-inline'.",
                id="assistant.W015",
            )
        )
    if settings.EMBEDDED:
        messages.append(
            Warning(
                "REDIS_URL is not set: running the single-process embedded shape.",
                hint="Production runs web, ingest and workers on Redis (docker-compose.yml).",
                id="assistant.W012",
            )
        )
    return messages


@register()
def check_jobs_have_a_worker(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    """Jobs sent to Celery without Redis go to an in-memory broker that no worker reads."""
    if settings.JOBS_IN_PROCESS or settings.REDIS_URL:
        return []
    return [
        Error(
            "JOBS_IN_PROCESS is off but REDIS_URL is not set: every job would be lost.",
            hint="Set REDIS_URL for Celery workers, or leave JOBS_IN_PROCESS unset.",
            id="assistant.E002",
        )
    ]


# A PostgreSQL restart refuses connections for some seconds; a failover can take a minute.
SHORTEST_DB_RETRY_S = 15.0


@register()
def check_ingest_db_retry(app_configs: Any = None, **kwargs: Any) -> list[Error | Warning]:
    """The ingest must wait out a database restart, or the captions said meanwhile are lost."""
    retry_s = settings.RTMS_DB_RETRY_S
    if retry_s < 0:
        return [Error(f"RTMS_DB_RETRY_S is {retry_s:g}: it must be >= 0.", id="assistant.E004")]
    if retry_s < SHORTEST_DB_RETRY_S:
        return [
            Warning(
                f"RTMS_DB_RETRY_S is {retry_s:g} s: a database restart that takes longer loses "
                "the transcript and chat of every live meeting in the meantime.",
                hint=f"Keep it at {SHORTEST_DB_RETRY_S:g} s or more (default 60).",
                id="assistant.W017",
            )
        ]
    return []


@register()
def check_rtms_allowed_hosts(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    """A malformed RTMS_ALLOWED_HOSTS entry would stop every ingest at start."""
    from rtms_ingest.client.url_policy import parse_allowed_hosts  # pure: no Django, no I/O

    try:
        parse_allowed_hosts(settings.RTMS_ALLOWED_HOSTS)
    except ValueError as exc:
        return [Error(str(exc), id="assistant.E025")]
    return []


def _beyond_zoom(entry: str) -> bool:
    """Whether an RTMS_ALLOWED_HOSTS entry lets the ingest reach a host that is not Zoom's."""
    from rtms_ingest.client.url_policy import ZOOM_HOSTS

    name = entry.strip().lower().removeprefix("*.")
    domains = [pattern.removeprefix("*.") for pattern in ZOOM_HOSTS]  # "zoom.us", ...
    return not any(name == domain or name.endswith(f".{domain}") for domain in domains)


@register(deploy=True)
def check_rtms_connections(app_configs: Any = None, **kwargs: Any) -> list[Warning]:
    """The ingest connects where webhooks tell it: only Zoom's hosts, only over TLS."""
    messages: list[Warning] = []
    beyond = [entry for entry in settings.RTMS_ALLOWED_HOSTS if _beyond_zoom(entry)]
    if beyond:
        messages.append(
            Warning(
                f"RTMS_ALLOWED_HOSTS allows hosts beyond Zoom's domains: {', '.join(beyond)}. "
                "Whoever can sign a webhook or write the command queue can point the ingest "
                "at them (internal services included).",
                hint="Leave it unset (*.zoom.us, *.zoomgov.com) outside a local simulator.",
                id="assistant.W025",
            )
        )
    if settings.RTMS_ALLOW_INSECURE_WS:
        messages.append(
            Warning(
                "RTMS_ALLOW_INSECURE_WS is on: the ingest accepts plain ws:// RTMS servers, "
                "which sends the stream's signature and receives every meeting's media in clear.",
                hint="Turn it off outside a local simulator (Zoom serves wss:// only).",
                id="assistant.W026",
            )
        )
    return messages


# Bodies the web process accepts are kept in memory (assistant/wiring/http_limits.py).
LARGEST_SENSIBLE_BODY_BYTES = 16 * 1024 * 1024
LONGEST_SENSIBLE_READ_S = 120.0


@register()
def check_http_limits(app_configs: Any = None, **kwargs: Any) -> list[Error | Warning]:
    """The web process's body caps and read deadline: positive, and not so large as to be none."""
    messages: list[Error | Warning] = []
    for name in ("HTTP_MAX_BODY_BYTES", "ZOOM_WEBHOOK_MAX_BODY_BYTES", "HTTP_READ_TIMEOUT_S"):
        value = getattr(settings, name)
        if value <= 0:
            messages.append(Error(f"{name} is {value:g}: it must be above 0.", id="assistant.E026"))
    if settings.HTTP_MAX_BODY_BYTES > LARGEST_SENSIBLE_BODY_BYTES:
        messages.append(
            Warning(
                f"HTTP_MAX_BODY_BYTES is {settings.HTTP_MAX_BODY_BYTES}: every connection may "
                "make the web process hold that much memory.",
                hint="The largest form or API body is a few KiB; the default is 1 MiB.",
                id="assistant.W027",
            )
        )
    if settings.HTTP_READ_TIMEOUT_S > LONGEST_SENSIBLE_READ_S:
        messages.append(
            Warning(
                f"HTTP_READ_TIMEOUT_S is {settings.HTTP_READ_TIMEOUT_S:g}: a client sending "
                "slowly holds a connection that long.",
                hint="The default is 30 s; a TLS proxy in front reads slow clients itself.",
                id="assistant.W028",
            )
        )
    return messages


@register(deploy=True)
def check_sign_in_behind_a_proxy(app_configs: Any = None, **kwargs: Any) -> list[Warning]:
    """Behind a proxy, sign-in throttling must know the client's address, not the proxy's."""
    if getattr(settings, "SECURE_PROXY_SSL_HEADER", None) and settings.TRUSTED_PROXY_COUNT == 0:
        return [
            Warning(
                "SECURE_PROXY_SSL is on but TRUSTED_PROXY_COUNT is 0: every sign-in seems to come "
                "from the proxy's address, so a few wrong passwords lock everyone out.",
                hint="Set TRUSTED_PROXY_COUNT to the number of proxies that append the client to "
                "X-Forwarded-For (1 for one nginx or load balancer).",
                id="assistant.W029",
            )
        ]
    return []


@register(deploy=True)
def check_staff_second_factor(app_configs: Any = None, **kwargs: Any) -> list[Warning]:
    """Staff read every meeting: in production their sign-in should take a second factor."""
    if settings.STAFF_2FA:
        return []
    return [
        Warning(
            "STAFF_2FA is off: a staff password alone opens every meeting.",
            hint="Enroll each staff user (manage.py enroll_totp USERNAME), then set STAFF_2FA=1.",
            id="assistant.W030",
        )
    ]


@register(deploy=True)
def check_data_encryption_keys(app_configs: Any = None, **kwargs: Any) -> list[Warning]:
    """Secrets kept in the database should be sealed with keys of their own, not SECRET_KEY's."""
    if settings.DATA_ENCRYPTION_KEYS:
        return []
    return [
        Warning(
            "DATA_ENCRYPTION_KEYS is not set: delivery URLs and signing secrets are sealed with "
            "a key derived from DJANGO_SECRET_KEY, so changing that key makes them unreadable.",
            hint="Set DATA_ENCRYPTION_KEYS to a key from `python manage.py make_data_key` "
            "(then `python manage.py reseal_secrets` seals what is stored with it).",
            id="assistant.W031",
        )
    ]


@register(deploy=True)
def check_delivery_urls(app_configs: Any = None, **kwargs: Any) -> list[Warning]:
    """Delivery URLs are typed by hosts: on a server they must not reach internal services."""
    if not settings.DELIVERY_ALLOW_PRIVATE_URLS:
        return []
    return [
        Warning(
            "DELIVERY_ALLOW_PRIVATE_URLS is on: a host's webhook can call plain http:// and "
            "loopback or private addresses (this server's and its network's internal services).",
            hint="Turn it off outside tests and a receiver on this machine.",
            id="assistant.W032",
        )
    ]


@register()
def check_whisper_language(app_configs: Any = None, **kwargs: Any) -> list[Warning]:
    """An English-only Whisper model cannot follow another language: say so, not guess."""
    from assistant import languages

    if not str(settings.WHISPER_MODEL).endswith(".en"):
        return []
    asked = []
    if settings.MEETING_LANGUAGE not in (languages.AUTO_ID, languages.ENGLISH_ID):
        asked.append(f"MEETING_LANGUAGE is {languages.choice_name(settings.MEETING_LANGUAGE)}")
    if settings.WHISPER_LANGUAGE not in ("en", "auto"):
        asked.append(f"WHISPER_LANGUAGE is {settings.WHISPER_LANGUAGE}")
    if not asked:
        return []
    return [
        Warning(
            f"WHISPER_MODEL={settings.WHISPER_MODEL} hears English only, but "
            f"{' and '.join(asked)}: our captions of other speech will not be a transcript "
            "(Zoom's captions follow the language).",
            hint="Use a multilingual model (WHISPER_MODEL=base, or a model folder), or "
            "TRANSCRIPTION=native for such meetings.",
            id="assistant.W041",
        )
    ]
