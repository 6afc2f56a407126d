"""The files that hold what citizens told the desk are for the bot's user alone.

Under a umask of 022 (what most shells give), `minsheng run` creates its database folders 0700
and the database, its -wal and -shm 0600; the runtime does so too when started in this process,
whatever the umask; `minsheng backup` writes FILE (and FILE.partial, when a check fails) 0600;
and a database file that others may read is named in a warning at start-up, left as it is.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.sandbox import Sandbox
from tests.databases import Database, small_database
from tests.harness import (
    ROOT,
    BotProcess,
    bot_env,
    outbox_open,
    running_bot,
    settings_for,
    wait_until,
)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def modes(database: Path) -> dict[str, int]:
    """The database's, its -wal's and its -shm's mode (all three must exist)."""
    return {
        suffix: mode(database.with_name(database.name + suffix)) for suffix in ("", "-wal", "-shm")
    }


@pytest.fixture
def open_umask() -> Iterator[None]:
    """The umask most shells give: files 0644 and folders 0755 unless the bot says otherwise."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def minsheng(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`python -m bot ARGS` under umask 022 (inherited from this process)."""
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def test_minsheng_run_creates_private_files(
    sandbox: Sandbox, tmp_path: Path, open_umask: None
) -> None:
    database = tmp_path / "var" / "desk" / "minsheng.sqlite3"
    opened = Database.sqlite(database)
    bot = BotProcess(bot_env(sandbox, opened), tmp_path / "bot.log")
    try:
        bot.start()
        sandbox.send_text(6_501, "/start")
        await sandbox.wait_for_messages(6_501, 1, timeout=30)
        await wait_until(lambda: outbox_open(opened) == 0, 10, "the outbox to settle")
        # While the bot runs its -wal and -shm are there: SQLite gave them the file's mode.
        assert modes(database) == {"": 0o600, "-wal": 0o600, "-shm": 0o600}
        assert mode(tmp_path / "var") == 0o700
        assert mode(tmp_path / "var" / "desk") == 0o700
        bot.terminate()
        assert await bot.wait(timeout=30) == 0
    finally:
        bot.kill()
    assert "may be read or changed by other users" not in bot.log()


async def test_the_runtime_makes_its_database_private_whatever_the_umask(
    sandbox: Sandbox, tmp_path: Path, open_umask: None
) -> None:
    """Started in this process (no CLI, umask 022): the same modes, set explicitly."""
    database = tmp_path / "data" / "minsheng.sqlite3"
    opened = Database.sqlite(database)
    async with running_bot(settings_for(sandbox, opened)):
        sandbox.send_text(6_502, "/start")
        await sandbox.wait_for_messages(6_502, 1, timeout=30)
        await wait_until(lambda: outbox_open(opened) == 0, 10, "the outbox to settle")
        assert modes(database) == {"": 0o600, "-wal": 0o600, "-shm": 0o600}
        assert mode(database.parent) == 0o700


def test_a_database_others_may_read_is_named_at_start_up(tmp_path: Path, open_umask: None) -> None:
    database = tmp_path / "minsheng.sqlite3"
    env = {"MINSHENG_DATABASE_URL": f"sqlite://{database}"}
    first = minsheng("migrate", env=env)
    assert first.returncode == 0, first.stderr
    assert mode(database) == 0o600
    assert "may be read or changed" not in first.stderr
    database.chmod(0o644)  # as an older version, or a careless copy, left it
    again = minsheng("migrate", env=env)
    assert again.returncode == 0, again.stderr
    assert (
        f"{database} may be read or changed by other users (mode 0644): it holds what "
        f"citizens told the desk; chmod 600 {database}"
    ) in again.stderr
    assert mode(database) == 0o644  # told, not changed


def test_a_backup_is_private(tmp_path: Path, open_umask: None) -> None:
    live, target = tmp_path / "live.sqlite3", tmp_path / "copy.sqlite3"
    small_database(live)
    done = minsheng("backup", str(target), env={"MINSHENG_DATABASE_URL": f"sqlite://{live}"})
    assert done.returncode == 0, done.stdout + done.stderr
    assert mode(target) == 0o600


def test_a_failed_backup_leaves_a_private_partial_copy(tmp_path: Path, open_umask: None) -> None:
    live, target = tmp_path / "live.sqlite3", tmp_path / "copy.sqlite3"
    small_database(live)
    data = bytearray(live.read_bytes())
    for offset in range(5 * 4096 + 8, 5 * 4096 + 600):  # damage inside a table or index page
        data[offset] = 0xA5
    live.write_bytes(bytes(data))
    failed = minsheng("backup", str(target), env={"MINSHENG_DATABASE_URL": f"sqlite://{live}"})
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert not target.exists()
    assert mode(tmp_path / "copy.sqlite3.partial") == 0o600
