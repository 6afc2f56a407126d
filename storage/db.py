"""Opening, migrating and checking the database."""

from __future__ import annotations

import logging
from pathlib import Path

from tortoise import Tortoise
from tortoise.connection import get_connection
from tortoise.migrations.api import migrate

from storage.config import tortoise_config, with_sqlite_pragmas

log = logging.getLogger(__name__)


class DatabaseMisconfigured(Exception):
    """The database does not have the durability settings Minsheng relies on."""


def _ensure_sqlite_folder(url: str) -> None:
    if not url.startswith("sqlite://"):
        return
    path = url.removeprefix("sqlite://").partition("?")[0]
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)


async def migrate_database(url: str) -> None:
    """Apply every migration that has not been applied yet (Tortoise's own migrations)."""
    _ensure_sqlite_folder(url)
    await migrate(config=tortoise_config(url))
    await Tortoise.close_connections()


async def open_database(url: str, *, run_migrations: bool = True) -> None:
    """Migrate, connect, and refuse to run on a SQLite file without WAL and synchronous=FULL."""
    if run_migrations:
        await migrate_database(url)
    _ensure_sqlite_folder(url)
    await Tortoise.init(config=tortoise_config(url), _enable_global_fallback=True)
    await check_durability(url)


async def close_database() -> None:
    await Tortoise.close_connections()


async def check_durability(url: str) -> None:
    """A case whose number was sent must survive a power cut: assert the PRAGMAs took effect."""
    if not with_sqlite_pragmas(url).startswith("sqlite://"):
        return
    conn = get_connection("default")
    _, journal = await conn.execute_query("PRAGMA journal_mode")
    _, sync = await conn.execute_query("PRAGMA synchronous")
    mode = str(journal[0][0]).lower() if journal else ""
    level = int(sync[0][0]) if sync else -1
    if ":memory:" not in url and mode != "wal":
        raise DatabaseMisconfigured(f"SQLite journal_mode is {mode!r}, expected 'wal'")
    if level < 2:
        raise DatabaseMisconfigured(f"SQLite synchronous is {level}, expected FULL (2) or EXTRA")
    log.info("database ready: journal_mode=%s synchronous=%s", mode, level)
