"""The assistant app: meetings, live view, notes."""

from django.apps import AppConfig


class AssistantConfig(AppConfig):
    """Registers the app's system checks and signal receivers."""

    name = "assistant"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from assistant import signals  # noqa: F401  (registers receivers)
        from assistant.wiring import checks  # noqa: F401  (registers the system checks)
