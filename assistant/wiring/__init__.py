"""How the processes are put together, beside the app's own code.

The typed readers of the environment (`env`), the system checks on the settings (`checks`), the
web process's tuning and request limits (`web_process`, `http_limits`) and the embedded shape's
beat (`beat`). The entry points users and tools name stay at the package root, where Django
and Celery look for them: `assistant.settings`, `assistant.asgi`, `assistant.celery`,
`assistant.urls`.
"""
