"""The assistant app: meetings, live view, notes."""

from django.apps import AppConfig


class AssistantConfig(AppConfig):
    """Registers the app's system checks."""

    name = "assistant"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from assistant import checks  # noqa: F401  (registers the checks)
