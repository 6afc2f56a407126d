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
import warnings
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit
from uuid import uuid4

import asyncpg
from tortoise.backends.base.config_generator import generate_config
from tortoise.backends.base.executor import EXECUTOR_CACHE
from tortoise.context import TortoiseContext
from tortoise.warnings import TortoiseLoopSwitchWarning

from storage.db import fold_case_everywhere

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
    # Tortoise caches each model's INSERT statement by connection name, not by dialect: a test
    # that opens SQLite and then PostgreSQL (tests/test_move_data.py) would write `?` to both.
    EXECUTOR_CACHE.clear()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=TortoiseLoopSwitchWarning)
        config = generate_config(url, app_modules={"minsheng": ["storage.models"]}, testing=True)
        async with TortoiseContext() as context:
            await context.init(config=config, use_tz=True, timezone="UTC")
            await fold_case_everywhere()
            yield context
