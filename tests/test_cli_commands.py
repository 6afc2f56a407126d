"""The `minsheng` command as an operator meets it, run as a process from a folder of its own.

Every command that works on a database names it on its first line (a PostgreSQL password left
out); one that only reads a desk refuses a SQLite file that is not there instead of creating
an empty one; "database ready" is logged by the servers only (or at DEBUG); `apikey list`
says when there are no keys; `export` keeps an existing file unless --force; and every
option of every subcommand says what it is for.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import socket
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from bot.cli import build_parser
from tests.databases import Database
from tests.harness import free_port_pair

PASSWORD = "not-for-the-screen"  # made up


def minsheng(
    folder: Path, *args: str, database: str | None = None
) -> subprocess.CompletedProcess[str]:
    """`python -m bot ARGS` in `folder` (no .env there), with only the database set."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MINSHENG_")}
    if database is not None:
        env["MINSHENG_DATABASE_URL"] = database
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_a_missing_sqlite_file_is_named_and_refused_not_created(tmp_path: Path) -> None:
    for command in (["report"], ["export"], ["apikey", "list"], ["staff", "list"]):
        done = minsheng(tmp_path, *command)
        assert done.returncode == 2, done
        lines = done.stderr.splitlines()
        missing = tmp_path / "var" / "minsheng.sqlite3"
        assert lines[0] == f"database: sqlite://var/minsheng.sqlite3 ({missing})"
        assert lines[1].startswith(f"minsheng: there is no database at {missing}")
        assert "MINSHENG_DATABASE_URL=sqlite://var/demo.sqlite3 minsheng" in done.stderr
        assert "No requests were received" not in done.stdout
        assert not (tmp_path / "var").exists()
    # migrate may start from nothing, and then the others read what it made.
    made = minsheng(tmp_path, "migrate")
    assert made.returncode == 0, made
    assert (tmp_path / "var" / "minsheng.sqlite3").exists()


def test_commands_name_their_database_and_keep_quiet_about_it(tmp_path: Path) -> None:
    url = f"sqlite://{tmp_path / 'desk.sqlite3'}"
    assert minsheng(tmp_path, "migrate", database=url).returncode == 0
    report = minsheng(tmp_path, "report", "month", database=url)
    assert report.returncode == 0, report
    assert report.stderr.splitlines() == [f"database: {url} ({tmp_path / 'desk.sqlite3'})"]
    assert "No requests were received" in report.stdout
    debug = minsheng(tmp_path, "--log-level", "DEBUG", "report", database=url)
    assert "database ready: journal_mode=wal" in debug.stderr
    keys = minsheng(tmp_path, "apikey", "list", database=url)
    assert keys.stdout == "no API keys yet: issue one with `minsheng apikey add NAME`\n"
    assert minsheng(tmp_path, "apikey", "add", "web-form", database=url).returncode == 0
    keys = minsheng(tmp_path, "apikey", "list", database=url)
    assert keys.stdout.startswith("web-form\tactive\tnever used")


def test_export_keeps_an_existing_file_unless_forced(tmp_path: Path) -> None:
    url = f"sqlite://{tmp_path / 'desk.sqlite3'}"
    assert minsheng(tmp_path, "migrate", database=url).returncode == 0
    out = tmp_path / "figures.csv"
    out.write_text("the operator's own work\n")
    refused = minsheng(tmp_path, "export", "--out", str(out), database=url)
    assert refused.returncode == 2
    assert f"minsheng: {out} exists; add --force to overwrite it" in refused.stderr
    assert out.read_text() == "the operator's own work\n"
    forced = minsheng(tmp_path, "export", "--out", str(out), "--force", database=url)
    assert forced.returncode == 0, forced
    assert out.read_bytes().startswith(b"\xef\xbb\xbftracking,")


def test_a_postgres_database_is_named_without_its_password(
    tmp_path: Path, db_path: Database
) -> None:
    """On the PostgreSQL pass, against the test's own database (a password put in the URL if
    it has none: a server that trusts the test's role ignores it); on SQLite, its file."""
    url = db_path.url
    if db_path.on_postgres:
        parts = urlsplit(url)
        if parts.password is None:
            host = parts.netloc.rpartition("@")[2]
            url = urlunsplit(parts._replace(netloc=f"{parts.username}:{PASSWORD}@{host}"))
    done = minsheng(tmp_path, "report", database=url)
    assert done.returncode == 0, done
    first = done.stderr.splitlines()[0]
    if db_path.on_postgres:
        password = urlsplit(url).password
        assert password
        assert password not in done.stderr + done.stdout
        assert first == f"database: {url.replace(password, '***')}"
    else:
        assert first == f"database: {url} ({db_path.path})"


def subcommands(
    parser: argparse.ArgumentParser, name: str = "minsheng"
) -> dict[str, argparse.ArgumentParser]:
    """Every parser under `parser`, by its command line: "minsheng apikey list" …"""
    found = {name: parser}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for word, sub in action.choices.items():
                found.update(subcommands(sub, f"{name} {word}"))
    return found


def test_every_option_of_every_subcommand_says_what_it_is_for() -> None:
    parsers = subcommands(build_parser())
    assert {"minsheng", "minsheng report", "minsheng export", "minsheng apikey list"} <= set(
        parsers
    )
    silent = [
        f"{name}: {action.dest}"
        for name, parser in parsers.items()
        for action in parser._actions
        if not isinstance(action, argparse._HelpAction | argparse._SubParsersAction)
        and not action.help
    ]
    assert silent == []
    for server in ("run", "webhook"):
        text = parsers[f"minsheng {server}"].format_help()
        assert ".env" in text, text


def test_the_demo_names_a_port_in_use_and_stops(tmp_path: Path, db_path: Database) -> None:
    """The demo's second port (its web desk) taken: one line saying so, exit 2, no hang."""
    port = free_port_pair()
    with contextlib.closing(socket.socket()) as taken:
        taken.bind(("127.0.0.1", port + 1))
        taken.listen()
        done = minsheng(tmp_path, "demo", "--port", str(port), "--database", db_path.url)
    assert done.returncode == 2, done
    assert (
        f"minsheng: port {port} or {port + 1} on 127.0.0.1 is in use by another program"
        in done.stderr
    )
    assert "Traceback" not in done.stderr
    assert "Minsheng demo is running" not in done.stdout
