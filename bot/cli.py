"""The `minsheng` command: demo, run, webhook, migrate, backup, move-data, catalog, kb,
templates, staff, apikey, bench, report, export."""

from __future__ import annotations

import argparse
import asyncio
import errno
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from bot import event_loop
from bot.admin_cli import add_admin_parsers, run_admin_command
from bot.backup import run_backup
from bot.bench_cli import add_bench_parser, run_bench_command
from bot.demo import run_demo
from bot.file_load_cli import load_file
from bot.ingress import PollingConflict
from bot.kb_cli import add_kb_parser, run_kb_command
from bot.logs import setup_logging
from bot.move_data import add_parser as add_move_parser
from bot.move_data import run_move_data, shown
from bot.reports_cli import add_parsers as add_report_parsers
from bot.reports_cli import run_export, run_report
from bot.runtime import run_with
from bot.sender_child import SenderEnds, fork_sender
from bot.settings import SettingsError, load_settings
from bot.templates_cli import add_templates_parser, run_templates_command
from bot.workers import WorkersRefused, run_workers
from storage.areas import load_areas
from storage.catalog import CatalogInvalid, load_catalog
from storage.db import (
    DatabaseMissing,
    migrate_database,
    require_sqlite_file,
    sqlite_path,
)

log = logging.getLogger("minsheng")

EXIT_SETTINGS = 2
EXIT_CONFLICT = 3
DEMO_DATABASE = "sqlite://var/demo.sqlite3"
READS_ENV = (
    "Settings come from the MINSHENG_* environment variables and from the file .env in the "
    "current folder, if there is one (.env.example lists them all)."
)
# Commands that may start from nothing: they create the SQLite file and migrate it. Every
# other command reads a desk that must exist, or it would quietly make an empty one.
CREATES_DATABASE = frozenset({"run", "webhook", "demo", "migrate"})
# Commands that work on the settings' database (move-data names its own two; bench makes its own).
USES_DATABASE = frozenset(
    {"run", "webhook", "migrate", "catalog", "kb", "backup", "staff", "apikey", "report", "export"}
    | {"templates"}
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="minsheng", description="Minsheng request desk bot")
    parser.add_argument(
        "--log-level",
        default="INFO",
        help="DEBUG, INFO (default), WARNING or ERROR: what the log on stderr shows",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser(
        "demo", help="bot + local Telegram sandbox + web chat, no token (.env is not read)"
    )
    demo.add_argument("--host", default="127.0.0.1", help="the address to serve on (127.0.0.1)")
    demo.add_argument(
        "--port",
        type=int,
        default=8081,
        help="the chat page's port (8081); the dashboard and Open311 take the next one",
    )
    demo.add_argument(
        "--database",
        default=DEMO_DATABASE,
        help=f"where the demo keeps its data (default {DEMO_DATABASE}; created if missing)",
    )
    sub.add_parser(
        "run",
        help="serve Telegram by long polling (needs MINSHENG_BOT_TOKEN); reads .env",
        description=READS_ENV,
    )
    webhook = sub.add_parser(
        "webhook", help="serve Telegram's webhook with aiohttp; reads .env", description=READS_ENV
    )
    webhook.add_argument(
        "--workers",
        type=int,
        default=None,
        help="run N processes on the webhook's port (PostgreSQL only), restarted if they die",
    )
    sub.add_parser("migrate", help="apply database migrations")
    backup = sub.add_parser("backup", help="copy the live SQLite database and check the copy")
    backup.add_argument("file", type=Path, help="where the copy goes")
    backup.add_argument("--force", action="store_true", help="overwrite FILE if it exists")
    add_move_parser(sub)  # move-data
    add_admin_parsers(sub)
    add_report_parsers(sub)  # report, export
    catalog = sub.add_parser("catalog", help="the catalogue of departments and categories")
    catalog.add_argument(
        "action",
        choices=("load", "areas"),
        help="load: add or update from FILE; areas: the districts and streets of FILE (属地)",
    )
    catalog.add_argument(
        "file", type=Path, help="a catalogue TOML file, or an areas GeoJSON file (areas)"
    )
    add_kb_parser(sub)  # kb load
    add_templates_parser(sub)  # templates load
    add_bench_parser(sub)  # bench and its scenarios
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    # Whatever a command writes (the database, its -wal and -shm, var/, a backup, an export)
    # is for this user alone: 0600 files and 0700 folders, whatever umask the shell had.
    os.umask(0o077)
    setup_logging(args.log_level)
    # python-telegram-bot 22 deprecates integer time periods; ask for timedeltas everywhere.
    os.environ.setdefault("PTB_TIMEDELTA", "1")
    try:
        sender = _forked_sender(args)
        sys.exit(event_loop.run(_dispatch(args, sender)) or 0)
    except SettingsError as exc:
        print(f"minsheng: {exc}", file=sys.stderr)
        sys.exit(EXIT_SETTINGS)
    except KeyboardInterrupt:
        sys.exit(130)


def _forked_sender(args: argparse.Namespace) -> SenderEnds | None:
    """`run` and `webhook` on a SQLite file send from a second process (bot.sender_child),
    forked here, before the event loop starts, so that it shares the modules' memory."""
    if args.command not in ("run", "webhook") or getattr(args, "workers", None) is not None:
        return None
    try:
        settings = load_settings()
    except SettingsError:
        return None  # _dispatch says why
    if not settings.sender_process or sqlite_path(settings.database_url) is None:
        return None
    return fork_sender()


async def _dispatch(args: argparse.Namespace, sender: SenderEnds | None = None) -> int:
    if args.command == "demo":
        print(database_line(args.database), file=sys.stderr, flush=True)
        try:
            await run_demo(args.host, args.port, args.database)
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE:
                raise
            print(
                f"minsheng: port {args.port} or {args.port + 1} on {args.host} is in use by "
                f"another program; the demo needs both. Choose others with --port.",
                file=sys.stderr,
            )
            return EXIT_SETTINGS
        return 0
    if args.command == "move-data":
        return await run_move_data(args)
    if args.command == "bench":
        return await run_bench_command(args)
    settings = load_settings()
    if args.command in ("run", "webhook"):  # a bad secret or calendar is then the one line
        settings.token()
        settings.calendar()
        if args.command == "webhook":
            settings.secret()
    if args.command in USES_DATABASE:
        print(database_line(settings.database_url), file=sys.stderr, flush=True)
    if args.command not in CREATES_DATABASE:
        try:
            require_sqlite_file(settings.database_url)
        except DatabaseMissing as missing:
            print(missing_database(missing.path), file=sys.stderr)
            return EXIT_SETTINGS
    if args.command == "migrate":
        await migrate_database(settings.database_url)
        print("migrations applied")
        return 0
    if args.command == "catalog":
        if args.action == "areas":
            return await load_file(args.file, settings, _load_areas, CatalogInvalid, "areas")
        return await load_file(args.file, settings, _load_catalog, CatalogInvalid, "catalogue")
    if args.command == "kb":
        return await run_kb_command(args, settings)
    if args.command == "templates":
        return await run_templates_command(args, settings)
    if args.command == "backup":
        return await asyncio.to_thread(
            run_backup, settings.database_url, args.file, force=args.force
        )
    if args.command in ("staff", "apikey"):
        return await run_admin_command(args, settings)
    if args.command == "report":
        return await run_report(settings, args)
    if args.command == "export":
        return await run_export(settings, args)
    if args.command == "webhook" and args.workers is not None:
        try:
            return await run_workers(settings, args.workers, log_level=args.log_level)
        except WorkersRefused as exc:
            print(f"minsheng: {exc}", file=sys.stderr)
            return EXIT_SETTINGS
    try:
        await run_with(settings, args.command, sender)
    except PollingConflict as exc:
        log.critical("ALERT: another instance polls with this token (%s); exiting", exc)
        return EXIT_CONFLICT
    return 0


def database_line(url: str) -> str:
    """The first line of a command that works on a database: which one (no password)."""
    path = sqlite_path(url)
    return f"database: {shown(url)}" + (f" ({path.resolve()})" if path else "")


def missing_database(path: Path) -> str:
    return (
        f"minsheng: there is no database at {path.resolve()} (nothing was created).\n"
        "Point MINSHENG_DATABASE_URL at the desk's database, e.g. the demo's:\n"
        f"  MINSHENG_DATABASE_URL={DEMO_DATABASE} minsheng …\n"
        "or create an empty one with `minsheng migrate`."
    )


async def _load_catalog(path: Path, **_: object) -> object:
    return await load_catalog(path)


async def _load_areas(path: Path, **_: object) -> object:
    return await load_areas(path)
