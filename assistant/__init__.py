"""The meeting assistant: Django project and main app."""

from assistant.celery import app as celery_app

__all__ = ["celery_app"]
