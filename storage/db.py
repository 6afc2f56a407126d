"""Opening, migrating and checking the database.

A SQLite database holds what citizens told the desk: its file, and the -wal and -shm files
SQLite makes beside it (with the database file's mode), are for the bot's user alone. A file
this module creates is made 0600 and a folder 0700, whatever the umask; an existing file that
others may read is reported at start-up (not changed: the operator may have reasons).
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

from tortoise import Tortoise
from tortoise.backends.base.executor import EXECUTOR_CACHE
from tortoise.connection import get_connection
from tortoise.migrations.api import migrate

from storage.config import asyncpg_dsn, on_postgres, tortoise_config, with_sqlite_pragmas

log = logging.getLogger(__name__)


class DatabaseMisconfigured(Exception):
    """The database does not have the durability settings Minsheng relies on."""


class DatabaseMissing(Exception):
    """A command that reads the desk's data was pointed at a SQLite file that does not exist
    (opening it would quietly create an empty desk)."""

    def __init__(self, path: Path) -> None:
        super().__init__(str(path))
        self.path = path


PRIVATE_FILE = 0o600
PRIVATE_FOLDER = 0o700
SQLITE_COMPANIONS = ("", "-wal", "-shm", "-journal")


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite database URL; None for another engine or an in-memory database."""
    if not url.startswith("sqlite://"):
        return None
    path = url.removeprefix("sqlite://").partition("?")[0]
    return Path(path) if path and path != ":memory:" else None


def require_sqlite_file(url: str) -> None:
    """Raise DatabaseMissing when `url` names a SQLite file that is not there."""
    path = sqlite_path(url)
    if path is not None and not path.exists():
        raise DatabaseMissing(path)


def prepare_sqlite_file(url: str) -> None:
    """Make the database's folder (0700) and file (0600) if missing; warn of open ones."""
    path = sqlite_path(url)
    if path is None:
        return
    make_private_folder(path.parent)
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, PRIVATE_FILE)
    except FileExistsError:
        warn_if_open(path)
        return
    try:
        os.fchmod(fd, PRIVATE_FILE)  # the umask may have taken bits away, never added: explicit
    finally:
        os.close(fd)


def make_private_folder(folder: Path) -> None:
    """Create `folder` and any missing parents, each 0700; existing ones are left as they are."""
    missing = []
    while not folder.exists():
        missing.append(folder)
        if folder.parent == folder:
            break
        folder = folder.parent
    for created in reversed(missing):
        try:
            created.mkdir(mode=PRIVATE_FOLDER)
        except FileExistsError:  # made meanwhile by someone else: theirs
            continue
        created.chmod(PRIVATE_FOLDER)


def warn_if_open(database: Path) -> list[Path]:
    """Log a warning for the database file and its companions if others may use them; the
    files warned about."""
    warned = []
    for suffix in SQLITE_COMPANIONS:
        path = database.with_name(database.name + suffix)
        try:
            mode = stat.S_IMODE(path.stat().st_mode)
        except OSError:  # absent (the -wal, -shm and -journal come and go)
            continue
        if mode & 0o077:
            log.warning(
                "%s may be read or changed by other users (mode %04o): it holds what "
                "citizens told the desk; chmod 600 %s",
                path,
                mode,
                path,
            )
            warned.append(path)
    return warned


MIGRATION_LOCK = 0x6D6967726174  # "migrat": PostgreSQL's advisory lock around migrating


async def _migrate(url: str) -> None:
    """Apply the migrations. On PostgreSQL, where several processes start together (or one is
    upgraded while the others run), one migrates under an advisory lock and the others wait for
    it, then find nothing left to do."""
    if not on_postgres(url):
        await migrate(config=tortoise_config(url))
        await Tortoise.close_connections()
        return
    # deferred: asyncpg is the optional [postgres] extra; SQLite-only desks lack it
    import asyncpg  # type: ignore[import-untyped]

    lock = await asyncpg.connect(asyncpg_dsn(url))
    try:
        await lock.execute(f"SELECT pg_advisory_lock({MIGRATION_LOCK})")
        await migrate(config=tortoise_config(url))
        await Tortoise.close_connections()
    finally:
        await lock.close()  # the lock goes with the session


async def migrate_database(url: str) -> None:
    """Apply every migration that has not been applied yet (Tortoise's own migrations)."""
    prepare_sqlite_file(url)
    await _migrate(url)


async def open_database(
    url: str, *, run_migrations: bool = True, ready_level: int = logging.INFO
) -> None:
    """Migrate, connect, and refuse to run on a SQLite file without WAL and synchronous=FULL.
    The "database ready" line is logged at `ready_level`: a one-shot command passes DEBUG."""
    prepare_sqlite_file(url)
    if run_migrations:
        await _migrate(url)
    forget_cached_statements()
    await Tortoise.init(config=tortoise_config(url), _enable_global_fallback=True)
    await fold_case_everywhere()
    await check_durability(url, ready_level=ready_level)


def forget_cached_statements() -> None:
    """Tortoise caches each model's INSERT statement by connection name, not by dialect: a
    process that opened a SQLite desk and then a PostgreSQL one under the same name (`bench
    --cases --database`, a test that generates a desk) would send `?` placeholders to
    PostgreSQL. Called before every connect."""
    EXECUTOR_CACHE.clear()


async def fold_case_everywhere() -> None:
    """SQLite's UPPER() and LIKE fold ASCII letters only, so a search for "ПРОРЫВ" would miss
    "прорыв" (and "ölheizung" "Ölheizung"). On SQLite, UPPER() becomes Python's Unicode
    str.upper for this connection, as PostgreSQL's is in a UTF-8 database; case-insensitive
    filters (`__icontains`, UPPER(…) LIKE UPPER(?)) then ignore case in every script."""
    client = get_connection("default")
    if client.capabilities.dialect != "sqlite":
        return
    await client.create_connection(with_db=True)
    # Tortoise offers no hook at connect time; its SQLite client keeps one aiosqlite connection.
    connection = client._connection
    await connection.create_function("upper", 1, _upper, deterministic=True)


def _upper(value: object) -> object:
    return value.upper() if isinstance(value, str) else value


async def close_database() -> None:
    await Tortoise.close_connections()


async def check_durability(url: str, *, ready_level: int = logging.INFO) -> None:
    """A case whose number was sent must survive a power cut: assert the PRAGMAs took effect
    on SQLite; on PostgreSQL, warn when commits may return before they are on disk."""
    conn = get_connection("default")
    if conn.capabilities.dialect == "postgres":
        _, rows = await conn.execute_query("SHOW synchronous_commit")
        setting = str(rows[0][0]) if rows else ""
        if setting == "off":
            log.warning(
                "PostgreSQL synchronous_commit is off: a crash may lose commits whose tracking "
                "number was already sent; set it to on (the default)"
            )
        else:
            log.log(ready_level, "database ready: PostgreSQL synchronous_commit=%s", setting)
        return
    if not with_sqlite_pragmas(url).startswith("sqlite://"):
        return
    _, journal = await conn.execute_query("PRAGMA journal_mode")
    _, sync = await conn.execute_query("PRAGMA synchronous")
    mode = str(journal[0][0]).lower() if journal else ""
    level = int(sync[0][0]) if sync else -1
    if ":memory:" not in url and mode != "wal":
        raise DatabaseMisconfigured(f"SQLite journal_mode is {mode!r}, expected 'wal'")
    if level < 2:
        raise DatabaseMisconfigured(f"SQLite synchronous is {level}, expected FULL (2) or EXTRA")
    log.log(ready_level, "database ready: journal_mode=%s synchronous=%s", mode, level)
