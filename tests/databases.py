"""Test databases: migrated once per test run (per xdist worker), then copied for each test.

A fresh migration costs most of a second; copying the migrated file costs next to nothing, and
the bot's own migration at start then finds nothing left to apply."""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import subprocess
import sys
import warnings
from collections.abc import AsyncIterator
from pathlib import Path

from tortoise.backends.base.config_generator import generate_config
from tortoise.context import TortoiseContext
from tortoise.warnings import TortoiseLoopSwitchWarning

ROOT = Path(__file__).resolve().parent.parent

MIGRATE = (
    "import asyncio, sys\n"
    "from storage.db import migrate_database\n"
    "asyncio.run(migrate_database('sqlite://' + sys.argv[1]))\n"
)


def build_template(path: Path) -> Path:
    """Migrate a new SQLite file at ``path`` (in a child process, so that this process's
    Tortoise state and event loops stay untouched) and leave it closed and checkpointed."""
    subprocess.run([sys.executable, "-c", MIGRATE, str(path)], cwd=ROOT, check=True, timeout=120)
    with contextlib.closing(sqlite3.connect(path)) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    for suffix in ("-wal", "-shm", "-journal"):
        leftover = path.with_name(path.name + suffix)
        if leftover.exists() and leftover.stat().st_size:
            raise RuntimeError(f"the template database left {leftover} behind")
        leftover.unlink(missing_ok=True)
    return path


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
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=TortoiseLoopSwitchWarning)
        config = generate_config(url, app_modules={"minsheng": ["storage.models"]}, testing=True)
        async with TortoiseContext() as context:
            await context.init(config=config, use_tz=True, timezone="UTC")
            yield context
