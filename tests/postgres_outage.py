"""A PostgreSQL restart as the application sees one, on the real server, for tests.

`DatabaseOutage.begin` makes the test database refuse new connections (ALLOW_CONNECTIONS false)
and cuts every open one (pg_terminate_backend): the ingest's DB threads, the test's own, any
worker's. `end` lets connections in again. Both are done from a connection to the `postgres`
database, which the outage spares. The test database is the one pytest-django made
(settings.DATABASES, read at run time). The `database_outage` fixture is in tests/conftest.py.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import psycopg
from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import connections
from psycopg import sql


class DatabaseOutage:
    """Turns the test database away and back on, and remembers when."""

    def __init__(self) -> None:
        db = settings.DATABASES["default"]
        self.name = str(db["NAME"])
        self._admin = psycopg.conninfo.make_conninfo(
            dbname="postgres", user=db["USER"], host=db["HOST"], port=db["PORT"]
        )
        self.began_at: float | None = None  # time.monotonic()
        self.ended_at: float | None = None

    @property
    def on(self) -> bool:
        return self.began_at is not None and self.ended_at is None

    def begin(self) -> None:
        """Refuse new connections to the test database and cut the open ones (gone on return)."""
        with psycopg.connect(self._admin, autocommit=True) as admin:
            admin.execute(self._allow(False))
            self.began_at, self.ended_at = time.monotonic(), None
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                [self.name],
            )
            deadline = time.monotonic() + 5
            while self._backends(admin):
                assert time.monotonic() < deadline, "backends outlived pg_terminate_backend"
                time.sleep(0.02)

    def end(self) -> None:
        """Let connections to the test database in again."""
        with psycopg.connect(self._admin, autocommit=True) as admin:
            admin.execute(self._allow(True))
        self.ended_at = time.monotonic()

    async def abegin(self) -> None:
        await asyncio.to_thread(self.begin)

    async def aend(self) -> None:
        """End it, and drop the dead connection of the thread async tests query from."""
        await asyncio.to_thread(self.end)
        await sync_to_async(connections.close_all)()

    async def lasting(self, seconds: float) -> None:
        """An outage of `seconds`, from now."""
        await self.abegin()
        await asyncio.sleep(seconds)
        await self.aend()

    def _backends(self, admin: psycopg.Connection[Any]) -> int:
        row = admin.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s", [self.name]
        ).fetchone()
        return int(row[0]) if row else 0

    def _allow(self, allowed: bool) -> sql.Composed:
        return sql.SQL("ALTER DATABASE {} WITH ALLOW_CONNECTIONS {}").format(
            sql.Identifier(self.name), sql.SQL("true" if allowed else "false")
        )
