"""`minsheng backup FILE`: a consistent copy of the live SQLite database, checked.

SQLite's online backup API copies the database a few pages at a time, pausing between steps so
the bot's own writes keep their share of the disk. The bot goes on writing meanwhile (in WAL
mode a reader never blocks a writer). The copy is one snapshot because this side holds a read
transaction across all the steps: without it SQLite restarts a copy from the first page
whenever another process writes, and a busy bot's copy would never finish.

The copy is written beside FILE under a temporary name and renamed into place once checked, so
a failed or interrupted backup never leaves a half-written FILE behind. Both are made 0600,
whatever the umask: a backup holds what citizens told the desk, as the database does.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

PAGES_PER_STEP = 256  # 1 MiB with SQLite's default 4 KiB pages
PAUSE_PER_STEP = 0.005  # seconds

EXIT_CHECK_FAILED = 1
EXIT_REFUSED = 2


class BackupRefused(Exception):
    """The backup cannot be made as asked (the message says why, in one line)."""


@dataclass(frozen=True)
class BackupReport:
    pages: int
    seconds: float
    integrity: list[str]
    counts: dict[str, int]

    @property
    def ok(self) -> bool:
        return self.integrity == ["ok"]


def sqlite_file(url: str) -> Path | None:
    """The file behind a SQLite database URL; None for another engine or an in-memory one."""
    if not url.startswith("sqlite://"):
        return None
    path = url.removeprefix("sqlite://").partition("?")[0]
    if not path or path == ":memory:":
        return None
    return Path(path)


def backup_sqlite(
    source: Path,
    target: Path,
    *,
    force: bool = False,
    pages: int = PAGES_PER_STEP,
    pause: float = PAUSE_PER_STEP,
) -> BackupReport:
    """Copy `source` (live or not) to `target`, then check the copy and count its rows."""
    if target.exists() and not force:
        raise BackupRefused(f"{target} exists; add --force to overwrite it")
    if not source.is_file():
        raise BackupRefused(f"no database at {source}")
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    started = time.monotonic()
    # mode=rw: never create an empty database where the live one was expected.
    src = sqlite3.connect(f"file:{source}?mode=rw", uri=True, isolation_level=None, timeout=30)
    try:
        _create_private(partial)  # SQLite takes it as an empty database; its journal inherits
        dst = sqlite3.connect(partial, isolation_level=None)
        try:
            src.execute("BEGIN")
            src.execute("SELECT count(*) FROM sqlite_master").fetchone()  # the snapshot
            src.backup(dst, pages=pages, progress=lambda *_: time.sleep(pause))
            src.execute("COMMIT")
            [(page_count,)] = dst.execute("PRAGMA page_count").fetchall()
            integrity = check_integrity(dst)
            counts = row_counts(dst) if integrity == ["ok"] else {}
        finally:
            dst.close()
    except BaseException:
        with contextlib.suppress(OSError):
            partial.unlink()
        raise
    finally:
        src.close()
    report = BackupReport(int(page_count), time.monotonic() - started, integrity, counts)
    if report.ok:
        os.replace(partial, target)
        _sync_folder(target.parent)
    return report


def check_integrity(conn: sqlite3.Connection) -> list[str]:
    """PRAGMA integrity_check's lines: ["ok"], or what is wrong (damage it cannot even walk
    past is reported as its error)."""
    try:
        return [str(row[0]) for row in conn.execute("PRAGMA integrity_check")]
    except sqlite3.DatabaseError as exc:
        return [str(exc)]


def row_counts(conn: sqlite3.Connection) -> dict[str, int]:
    """Rows in each table of the database, by table name."""
    tables = [
        name
        for (name,) in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            " ORDER BY name"
        )
    ]
    quoted = {name: '"' + name.replace('"', '""') + '"' for name in tables}
    return {
        name: int(conn.execute(f"SELECT count(*) FROM {quoted[name]}").fetchone()[0])  # noqa: S608
        for name in tables
    }


def run_backup(database_url: str, target: Path, *, force: bool) -> int:
    """The command: print what was copied and checked; the exit status says if it is good."""
    source = sqlite_file(database_url)
    if source is None:
        scheme = database_url.partition(":")[0]
        print(
            f"minsheng: the database is {scheme}, not a SQLite file: back it up with "
            "pg_dump (e.g. pg_dump --format=custom --file=FILE DATABASE) for PostgreSQL"
        )
        return EXIT_REFUSED
    try:
        report = backup_sqlite(source, target, force=force)
    except BackupRefused as exc:
        print(f"minsheng: {exc}")
        return EXIT_REFUSED
    if not report.ok:
        print(
            f"minsheng: the copy of {source} failed its integrity check; {target} was not "
            f"written (the copy is left at {target.name}.partial):"
        )
        for line in report.integrity[:20]:
            print(f"  {line}")
        return EXIT_CHECK_FAILED
    print(
        f"backed up {source} to {target}: {report.pages} pages in {report.seconds:.2f} s; "
        "integrity_check: ok"
    )
    width = max((len(name) for name in report.counts), default=0)
    for name, count in report.counts.items():
        print(f"  {name:<{width}}  {count}")
    return 0


def _create_private(path: Path) -> None:
    """An empty file only this user may read or write (0600, set again past the umask)."""
    fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    try:
        os.fchmod(fd, 0o600)
    finally:
        os.close(fd)


def _sync_folder(folder: Path) -> None:
    """Make the rename itself durable."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
