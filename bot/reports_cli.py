"""`minsheng report` and `minsheng export`: the desk's figures and its CSV file in a terminal.

Both read the database of the settings and take the periods of /stats (today, week, month,
YYYY-MM, FROM..TO) in the desk's time zone. The export shows a progress bar on stderr, so the
file can also go to stdout (`--out -`) and be piped on.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from bot.i18n import Catalogs
from bot.settings import LANGUAGES, Settings
from bot.texts.reports import stats_text
from storage.catalog import DepartmentNotFound
from storage.db import close_database, open_database
from storage.export import count_cases, export_csv
from storage.periods import PeriodInvalid, parse_period
from storage.stats import compute_stats
from storage.stats_series import catalogue_names, name_in

EXIT_USAGE = 2
BAR = 30


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The two subcommands, for bot.cli's parser."""
    report = sub.add_parser("report", help="print the figures of a period")
    report.add_argument(
        "period",
        nargs="?",
        default="month",
        help="today, week, month (default), YYYY-MM or FROM..TO",
    )
    report.add_argument(
        "department", nargs="?", default=None, help="a department code (default: every one)"
    )
    report.add_argument(
        "--language",
        choices=LANGUAGES,
        default=None,
        help="of the report (default: MINSHENG_DEFAULT_LANGUAGE)",
    )
    export = sub.add_parser("export", help="write the requests of a period as a CSV file")
    export.add_argument(
        "period",
        nargs="?",
        default="month",
        help="today, week, month (default), YYYY-MM or FROM..TO",
    )
    export.add_argument("--department", default=None, help="a department code")
    export.add_argument(
        "--out",
        default=None,
        help="the file to write ('-': stdout; default minsheng-PERIOD.csv)",
    )
    export.add_argument("--force", action="store_true", help="overwrite the file if it exists")
    export.add_argument(
        "--language", choices=LANGUAGES, default=None, help="of the category and department names"
    )


def progress_bar(total: int, stream: TextIO) -> Callable[[int], None]:
    """A one-line bar that redraws itself: [#####.....] 1200/4000."""

    def show(done: int) -> None:
        filled = BAR * done // total if total else BAR
        stream.write(f"\r[{'#' * filled}{'.' * (BAR - filled)}] {done}/{total}")
        stream.flush()

    return show


async def run_report(settings: Settings, args: argparse.Namespace) -> int:
    t = Catalogs(settings.default_language).get(args.language or settings.default_language)
    try:
        period = parse_period(args.period, now=datetime.now(UTC), zone=settings.zone)
    except PeriodInvalid:
        print(f"minsheng: not a period: {args.period}", file=sys.stderr)
        return EXIT_USAGE
    await open_database(settings.database_url, ready_level=logging.DEBUG)
    try:
        stats = await compute_stats(period.start, period.end, args.department)
        departments, _ = await catalogue_names()
    except DepartmentNotFound:
        print(f"minsheng: no department has the code {args.department}", file=sys.stderr)
        return EXIT_USAGE
    finally:
        await close_database()
    name = name_in(departments, args.department, t.language) if args.department else None
    print(stats_text(stats, period.label, t, name, markup=False, names=departments))
    return 0


async def run_export(settings: Settings, args: argparse.Namespace) -> int:
    try:
        period = parse_period(args.period, now=datetime.now(UTC), zone=settings.zone)
    except PeriodInvalid:
        print(f"minsheng: not a period: {args.period}", file=sys.stderr)
        return EXIT_USAGE
    out = args.out or f"minsheng-{period.label.replace('..', '_')}.csv"
    if out != "-" and not args.force and await asyncio.to_thread(Path(out).exists):
        print(f"minsheng: {out} exists; add --force to overwrite it", file=sys.stderr)
        return EXIT_USAGE
    await open_database(settings.database_url, ready_level=logging.DEBUG)
    try:
        total = await count_cases(period.start, period.end, args.department)
        data = await export_csv(
            period.start,
            period.end,
            args.department,
            language=args.language or settings.default_language,
            zone=settings.zone,
            progress=progress_bar(total, sys.stderr),
        )
    except DepartmentNotFound:
        print(f"minsheng: no department has the code {args.department}", file=sys.stderr)
        return EXIT_USAGE
    finally:
        await close_database()
    print(file=sys.stderr)
    if out == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    else:
        try:
            await asyncio.to_thread(_write, Path(out), data, force=args.force)
        except FileExistsError:  # made while the rows were read
            print(f"minsheng: {out} exists; add --force to overwrite it", file=sys.stderr)
            return EXIT_USAGE
        print(f"{total} requests of {period.label} written to {out}", file=sys.stderr)
    return 0


def _write(path: Path, data: bytes, *, force: bool) -> None:
    with path.open("wb" if force else "xb") as file:
        file.write(data)
