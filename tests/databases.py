"""Test databases: migrated once per test run (per xdist worker), then copied for each test.

A fresh migration costs most of a second; copying the migrated file costs next to nothing, and
the bot's own migration at start then finds nothing left to apply. On PostgreSQL
(MINSHENG_TEST_DATABASE_URL=postgres://…, a role that may create databases) the template is a
database, and each test gets `CREATE DATABASE … TEMPLATE` of its own, dropped afterwards."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import sqlite3
import subprocess
import sys
import threading
import warnings
from collections.abc import AsyncIterator, Coroutine
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit
from uuid import uuid4

import asyncpg
import pytest
from tortoise.backends.base.config_generator import generate_config
from tortoise.context import TortoiseContext
from tortoise.warnings import TortoiseLoopSwitchWarning

from storage.config import database_connection
from storage.db import fold_case_everywhere, forget_cached_statements
from storage.move import move_desk
from storage.sql import dialect_sql

ROOT = Path(__file__).resolve().parent.parent

MIGRATE = (
    "import asyncio, sys\n"
    "from storage.db import migrate_database\n"
    "asyncio.run(migrate_database(sys.argv[1]))\n"
)
# Where the PostgreSQL pass creates its databases; unset: SQLite files.
POSTGRES_URL = os.environ.get("MINSHENG_TEST_DATABASE_URL", "")
ON_POSTGRES = POSTGRES_URL.startswith(("postgres://", "postgresql://"))


def build_template(path: Path) -> Path:
    """Migrate a new SQLite file at ``path`` (in a child process, so that this process's
    Tortoise state and event loops stay untouched) and leave it closed and checkpointed."""
    migrate_in_child(f"sqlite://{path}")
    with contextlib.closing(sqlite3.connect(path)) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    for suffix in ("-wal", "-shm", "-journal"):
        leftover = path.with_name(path.name + suffix)
        if leftover.exists() and leftover.stat().st_size:
            raise RuntimeError(f"the template database left {leftover} behind")
        leftover.unlink(missing_ok=True)
    return path


def migrate_in_child(url: str) -> None:
    subprocess.run([sys.executable, "-c", MIGRATE, url], cwd=ROOT, check=True, timeout=120)


def named_database(name: str) -> str:
    """The URL of database `name` on the test server."""
    parts = urlsplit(POSTGRES_URL)
    return urlunsplit(parts._replace(path=f"/{name}"))


async def _admin(statement: str) -> None:
    connection = await asyncpg.connect(POSTGRES_URL)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


def build_postgres_template(worker: str) -> str:
    """A migrated template database for this worker (made anew each run); its name."""
    name = f"minsheng_template_{worker}"

    def make() -> None:  # a thread of its own: the caller may be inside an event loop
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        asyncio.run(_admin(f'CREATE DATABASE "{name}"'))

    with ThreadPoolExecutor(1) as apart:
        apart.submit(make).result()
    migrate_in_child(named_database(name))
    return name


@contextlib.asynccontextmanager
async def postgres_copy(template: str | None) -> AsyncIterator[str]:
    """A database of the test's own, copied from `template` (None: a new, empty one, not even
    migrated); its URL. Dropped afterwards."""
    name = f"minsheng_test_{uuid4().hex[:12]}"
    copied = f' TEMPLATE "{template}"' if template else ""
    await _admin(f'CREATE DATABASE "{name}"{copied}')
    try:
        yield named_database(name)
    finally:
        await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def small_database(path: Path, rows: int = 2000) -> None:
    """A plain SQLite file of ``rows`` notes (not the bot's schema), for the backup tests."""
    with contextlib.closing(sqlite3.connect(path)) as conn, conn:
        conn.execute("CREATE TABLE note (id INTEGER PRIMARY KEY, body TEXT)")
        conn.execute("CREATE INDEX note_body ON note (body)")
        conn.executemany(
            "INSERT INTO note (body) VALUES (?)",
            [(f"note {i:06d} " + "x" * 100,) for i in range(rows)],
        )


def copy_database(template: Path, target: Path) -> Path:
    """A private (0600) copy of the migrated template at ``target``, which must not exist."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(target, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    with os.fdopen(fd, "wb") as out, template.open("rb") as source:
        shutil.copyfileobj(source, out)
    return target


@contextlib.asynccontextmanager
async def storage_context(url: str) -> AsyncIterator[TortoiseContext]:
    """Tortoise on an already migrated database, in a context of its own (as
    `tortoise.context.tortoise_test_context`, without generating the schema again)."""
    forget_cached_statements()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=TortoiseLoopSwitchWarning)
        modules = {"minsheng": ["storage.models", "storage.desk_models"]}
        config = generate_config(url, app_modules=modules, testing=True)
        config["connections"]["default"] = database_connection(url)  # the desk's own client
        async with TortoiseContext() as context:
            await context.init(config=config, use_tz=True, timezone="UTC")
            await fold_case_everywhere()
            yield context


@contextlib.asynccontextmanager
async def generated_desk(
    desk: Path, tmp_path: Path, postgres_url: str | None = None
) -> AsyncIterator[TortoiseContext]:
    """Tortoise on a copy of a generated desk (bot.case_generator), or, given `postgres_url`, on
    that database with the copy moved into it as `minsheng bench --cases --database` moves it."""
    copy = tmp_path / desk.name
    shutil.copyfile(desk, copy)
    if postgres_url is not None:
        await move_desk(f"sqlite://{copy}", postgres_url)
    async with storage_context(postgres_url or f"sqlite://{copy}") as context:
        yield context


# -- The end-to-end tests' database: a SQLite file or a PostgreSQL database of the test's own ----

T = TypeVar("T")


class _Reader:
    """An event loop in a thread of its own, for the tests' reads of a PostgreSQL database: a
    test reads synchronously (as it reads a SQLite file) while the bot under test runs on the
    test's own loop."""

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                threading.Thread(target=loop.run_forever, name="pg-reader", daemon=True).start()
                self._loop = loop
            return self._loop

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=60)

    async def run_async(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coroutine, self.loop))


READER = _Reader()


def _as_sqlite_gives(value: Any) -> Any:
    """A PostgreSQL value as SQLite's driver gives the same column: booleans as 0/1, moments as
    the ISO text Tortoise stores, sums as integers."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def _sqlite_param(value: Any) -> Any:
    """A parameter as Tortoise stores it on SQLite (moments as ISO text in UTC)."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(sep=" ")
    return value


@dataclass
class Database:
    """The bot's database in an end-to-end test: a SQLite file (``path``) or, on the PostgreSQL
    pass, a database of the test's own. Tests read and change it with plain SQL and `?`
    placeholders, as an operator would; rows come back as SQLite gives them."""

    url: str
    path: Path | None = None
    _reads: asyncpg.Connection | None = field(default=None, repr=False)
    _read_lock: asyncio.Lock | None = field(default=None, repr=False)

    @classmethod
    def sqlite(cls, path: Path) -> Database:
        return cls(f"sqlite://{path}", path)

    @property
    def on_postgres(self) -> bool:
        return self.path is None

    def exists(self) -> bool:
        return self.path is None or self.path.exists()

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """Rows of a read (on PostgreSQL, of one shared connection that takes no locks a write
        could wait on)."""
        if self.path is not None:
            with contextlib.closing(sqlite3.connect(self.path, timeout=10)) as conn:
                return conn.execute(sql, tuple(map(_sqlite_param, params))).fetchall()
        return READER.run(self._read(sql, params))

    def tables(self) -> list[str]:
        """The bot's tables (SQLite's own aside), by name."""
        if self.path is not None:
            sql = (
                "SELECT name FROM sqlite_master WHERE type = 'table'"
                " AND name NOT LIKE 'sqlite_%' ORDER BY name"
            )
        else:
            sql = (
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
                " AND table_type = 'BASE TABLE' ORDER BY table_name"
            )
        return [str(row[0]) for row in self.query(sql)]

    def columns(self, table: str) -> list[tuple[str, str]]:
        """(name, declared type) of each column of ``table``, in order."""
        if self.path is not None:
            return [(row[1], row[2]) for row in self.query(f'PRAGMA table_info("{table}")')]
        sql = (
            "SELECT column_name, data_type FROM information_schema.columns"
            " WHERE table_schema = 'public' AND table_name = ? ORDER BY ordinal_position"
        )
        return [(str(name), str(kind)) for name, kind in self.query(sql, (table,))]

    def records(self, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        """As `query`, each row a dict of its columns."""
        if self.path is not None:
            with contextlib.closing(sqlite3.connect(self.path, timeout=10)) as conn:
                conn.row_factory = sqlite3.Row
                rows = conn.execute(sql, tuple(map(_sqlite_param, params))).fetchall()
                return [dict(row) for row in rows]
        return READER.run(self._read_records(sql, params))

    def change(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """Run one statement and commit it; its rows (say, of RETURNING)."""
        if self.path is not None:
            with contextlib.closing(sqlite3.connect(self.path, timeout=10)) as conn, conn:
                return conn.execute(sql, tuple(map(_sqlite_param, params))).fetchall()
        return READER.run(self._write(sql, params))

    async def change_async(self, sql: str, params: tuple[Any, ...] = ()) -> None:
        """As `change`, off this event loop: the bot under test runs on it and may hold a lock
        halfway through a transaction that it must be able to finish."""
        if self.path is not None:
            await asyncio.to_thread(self.change, sql, params)
        else:
            await READER.run_async(self._write(sql, params))

    def close(self) -> None:
        if self._reads is not None:
            READER.run(self._reads.close())
            self._reads = None

    async def _read(self, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        return [
            tuple(map(_as_sqlite_gives, row.values())) for row in await self._fetch(sql, params)
        ]

    async def _read_records(self, sql: str, params: tuple[Any, ...]) -> list[dict[str, Any]]:
        rows = await self._fetch(sql, params)
        return [{key: _as_sqlite_gives(value) for key, value in row.items()} for row in rows]

    async def _fetch(self, sql: str, params: tuple[Any, ...]) -> list[asyncpg.Record]:
        if self._read_lock is None:
            self._read_lock = asyncio.Lock()
        async with self._read_lock:
            if self._reads is None:
                self._reads = await asyncpg.connect(self.url)
            return await self._reads.fetch(dialect_sql(sql, "postgres"), *params)

    async def _write(self, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        connection = await asyncpg.connect(self.url)  # its own: it may wait on the bot's locks
        try:
            rows = await connection.fetch(dialect_sql(sql, "postgres"), *params)
        finally:
            await connection.close()
        return [tuple(map(_as_sqlite_gives, row)) for row in rows]


def new_database(request: pytest.FixtureRequest, directory: Path) -> Database:
    """A migrated database of the caller's own: a copy of this worker's template (a SQLite file
    in ``directory``, or a PostgreSQL database). `drop_database` removes it."""
    if ON_POSTGRES:
        template = request.getfixturevalue("postgres_template")
        name = f"{template.replace('template', 'test')}_{uuid4().hex[:12]}"
        READER.run(_admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
        return Database(named_database(name))
    sqlite_template = request.getfixturevalue("database_template")
    return Database.sqlite(copy_database(sqlite_template, directory / "minsheng.sqlite3"))


def drop_database(database: Database) -> None:
    database.close()
    if database.on_postgres:
        name = urlsplit(database.url).path.lstrip("/")
        READER.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
