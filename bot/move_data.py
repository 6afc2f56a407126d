"""`minsheng move-data --from sqlite://… --to postgres://…`: a desk into PostgreSQL, with a bar.

The copying and its checks are storage.move's; this module reads the command line, draws the
progress on stderr and says what was moved. Exit codes: 0 moved, 1 the copy did not check out
(rolled back), 2 refused before any row was written (a target that is not empty, among others).
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any, TextIO
from urllib.parse import urlsplit, urlunsplit

from storage.move import MoveMismatch, MoveRefused, MoveReport, move_desk

EXIT_MISMATCH = 1
EXIT_REFUSED = 2
BAR_WIDTH = 30
REDRAW_EVERY = 0.2  # seconds


def add_parser(sub: Any) -> None:
    move = sub.add_parser(
        "move-data", help="copy a whole desk from SQLite into an empty PostgreSQL database"
    )
    move.add_argument("--from", dest="source", required=True, help="sqlite://PATH")
    move.add_argument("--to", dest="target", required=True, help="postgres://… (empty)")
    move.add_argument("--batch", type=int, default=5_000, help="rows per batch")


def shown(url: str) -> str:
    """A database URL fit to print: without its password."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{parts.username}:***@{host}"))


class ProgressBar:
    """One line per table on `stream`: on a terminal a bar redrawn as rows arrive, elsewhere
    the line once the table is done."""

    def __init__(self, stream: TextIO = sys.stderr) -> None:
        self.stream = stream
        self.live = stream.isatty()
        self.table = ""
        self.started = 0.0
        self.drawn = 0.0

    def __call__(self, table: str, done: int, total: int) -> None:
        now = time.perf_counter()
        if table != self.table:
            self.table, self.started, self.drawn = table, now, 0.0
        finished = done >= total
        if not finished and (not self.live or now - self.drawn < REDRAW_EVERY):
            return
        self.drawn = now
        filled = BAR_WIDTH * done // total if total else BAR_WIDTH
        rate = done / (now - self.started) if now > self.started else 0.0
        line = (
            f"{table:<20} [{'#' * filled}{'.' * (BAR_WIDTH - filled)}]"
            f" {done:>11,} / {total:<11,} {rate:>9,.0f} rows/s"
        )
        start = "\r" if self.live else ""
        self.stream.write(start + line + ("\n" if finished else ""))
        self.stream.flush()


def describe(report: MoveReport) -> str:
    return (
        f"moved {report.total:,} rows of {len(report.rows)} tables in {report.seconds:.1f} s"
        f" ({report.rows_per_second:,.0f} rows/s); every table's count matches,"
        f" {report.compared:,} sampled rows match value by value,"
        f" {report.sequences} sequences set past their largest id;"
        f" {report.rebuilt} indexes and keys made again over the rows in"
        f" {report.indexing_seconds:.1f} s, VACUUM (ANALYZE) in {report.vacuum_seconds:.1f} s"
    )


async def run_move_data(args: argparse.Namespace) -> int:
    """Move, print what was moved; refusals and mismatches as one line on stderr."""
    print(f"moving {shown(args.source)} into {shown(args.target)}", file=sys.stderr)
    try:
        report = await move_desk(
            args.source, args.target, batch=args.batch, progress=ProgressBar()
        )
    except MoveRefused as refused:
        print(f"minsheng move-data: refused, nothing copied: {refused}", file=sys.stderr)
        return EXIT_REFUSED
    except MoveMismatch as mismatch:
        print(
            f"minsheng move-data: the copy did not check out and was rolled back: {mismatch}",
            file=sys.stderr,
        )
        return EXIT_MISMATCH
    print(describe(report))
    return 0
