"""Settings for the test run: the machine's real PostgreSQL and Redis, test-only Zoom secrets.

Defaults only; any value already in the environment wins (so CI can point elsewhere).
"""

import os
from pathlib import Path

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/assistant")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/15")
os.environ.setdefault("ZOOM_CLIENT_ID", "test-client-id")
os.environ.setdefault("ZOOM_CLIENT_SECRET", "test-client-secret")
os.environ.setdefault("ZOOM_WEBHOOK_SECRET_TOKEN", "test-webhook-secret")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
# The tests' RTMS servers are the simulator on loopback over ws://, as a user testing against it
# would allow (production allows only Zoom's hosts over wss://).
os.environ.setdefault("RTMS_ALLOWED_HOSTS", "127.0.0.1")
os.environ.setdefault("RTMS_ALLOW_INSECURE_WS", "1")
os.environ.setdefault(
    "ASSISTANT_VAR_DIR", str(Path(__file__).resolve().parent.parent / "var" / "test")
)

from assistant.settings import *  # noqa: F403

# Fast test logins; the production hasher stays available for users a test shares with the
# web process of the end-to-end stack (which runs the production settings).
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.MD5PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]

# Counters in the cache (the ask rate limit) under a prefix of this run's own: a run started
# within a minute of the last does not inherit its counts for the same user ids.
CACHES["default"]["KEY_PREFIX"] = f"test-{os.getpid()}"  # noqa: F405
