"""The test run talks to the real PostgreSQL and Redis."""

from django.conf import settings


def test_suite_runs_on_postgresql() -> None:
    assert settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"


def test_suite_runs_on_the_redis_channel_layer() -> None:
    assert settings.CHANNEL_LAYERS["default"]["BACKEND"].startswith("channels_redis")
