"""`minsheng bench --cases N`: the desk's reads at the size of a city, timed through its own code.

A SQLite file of N generated cases (bot.case_generator) is opened the way the bot opens its
database (with `--database postgres://…`, the cases are first moved into that empty PostgreSQL
database by storage.move, and timed there), and three things are timed with the storage
functions the handlers call:

* /stats for the latest full month (storage.stats.compute_stats), for the whole desk and for its
  busiest department: the median of five runs;
* a citizen's status lookup (handlers.tracking: parse the number, then storage.cases
  case_of_citizen and public_timeline) for random cases: p50 and p99;
* /queue pages (storage.queue.queue_page) of the busiest views — new, department, overdue — for
  an admin and for the handler of the busiest department, on pages 1 to 20: p50 and p99;
* public board searches (bot.bench_board) over the published share of the cases: p50 and p99.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.bench_board import measure_board
from bot.bench_bot_memory import measure_bot
from bot.bench_cases_report import case_summary, figure_rows, print_report
from bot.case_generator import Generated, build
from bot.case_generator_rows import ADMIN_ID, FIRST_STAFF
from bot.case_generator_times import ZONE
from bot.move_data import EXIT_REFUSED, ProgressBar, shown
from storage.db import close_database, open_database, sqlite_path
from storage.move import MoveRefused, MoveReport, move_desk
from storage.queue import QueueFilter, queue_page
from storage.sql import fetch
from storage.stats import compute_stats
from storage.status_read import citizen_case_status
from storage.tracking import format_tracking_number, parse_tracking_number

STATS_RUNS = 5
QUEUE_VIEWS = ("now", "new", "department", "overdue")
DEEPEST_PAGE = 20


def percentile(sorted_values: list[float], share: float) -> float:
    return sorted_values[min(len(sorted_values) - 1, int(len(sorted_values) * share))]


def latest_full_month(now: datetime) -> tuple[datetime, datetime]:
    """[first day of last month, first day of this month) in the desk's time zone."""
    local = now.astimezone(ZONE)
    end = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    previous = (
        end.replace(year=end.year - 1, month=12)
        if end.month == 1
        else end.replace(month=end.month - 1)
    )
    return previous, end


def _case_count(path: Path) -> int:
    if not path.exists():
        return 0
    db = sqlite3.connect(path)
    try:
        found = db.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'service_case'"
        ).fetchone()
        return db.execute("SELECT count(*) FROM service_case").fetchone()[0] if found else 0
    finally:
        db.close()


async def _timed(call: Callable[[], Awaitable[Any]]) -> float:
    started = time.perf_counter()
    await call()
    return (time.perf_counter() - started) * 1000


async def measure_stats(now: datetime) -> dict[str, Any]:
    start, end = latest_full_month(now)
    rows = await fetch(
        "SELECT d.code FROM service_case c JOIN department d ON d.id = c.department_id"
        " WHERE c.created_at >= ? AND c.created_at < ? GROUP BY d.code"
        " ORDER BY count(*) DESC LIMIT 1",
        start,
        end,
    )
    busiest = rows[0]["code"] if rows else None
    whole = [
        await _timed(lambda: compute_stats(start, end, None, now=now)) for _ in range(STATS_RUNS)
    ]
    one = [
        await _timed(lambda: compute_stats(start, end, busiest, now=now))
        for _ in range(STATS_RUNS)
    ]
    received = (await compute_stats(start, end, None, now=now)).total.received
    return {
        "month": start.strftime("%Y-%m"),
        "received": received,
        "all_ms": round(statistics.median(whole), 1),
        "department": busiest,
        "department_ms": round(statistics.median(one), 1),
    }


async def measure_lookups(rng: random.Random, count: int) -> dict[str, Any]:
    """The citizen's lookup as handlers.tracking makes it, for `count` random own cases."""
    rows = await fetch("SELECT max(id) AS top FROM service_case")
    top = rows[0]["top"] or 0
    ids = [rng.randint(1, top) for _ in range(count)]
    distinct = sorted(set(ids))
    found: dict[int, tuple[str, int]] = {}
    for i in range(0, len(distinct), 500):
        chunk = distinct[i : i + 500]
        rows = await fetch(
            "SELECT id, tracking, citizen_id FROM service_case WHERE citizen_id IS NOT NULL"  # noqa: S608
            f" AND id IN ({','.join('?' * len(chunk))})",
            *chunk,
        )
        found.update({row["id"]: (row["tracking"], row["citizen_id"]) for row in rows})
    pairs = [found[i] for i in ids if i in found]  # random order, repeats as in life
    times = []
    for tracking, citizen_id in pairs:
        typed = format_tracking_number(tracking).lower()  # as a citizen might type it
        started = time.perf_counter()
        canonical = parse_tracking_number(typed)
        await citizen_case_status(canonical, citizen_id)  # what /status reads
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return {
        "lookups": len(times),
        "p50_ms": round(statistics.median(times), 2),
        "p99_ms": round(percentile(times, 0.99), 2),
        "max_ms": round(times[-1], 2),
    }


async def measure_queue(rng: random.Random, count: int, now: datetime) -> dict[str, Any]:
    """/queue pages for an admin and for the busiest department's handler."""
    rows = await fetch(
        "SELECT department_id FROM service_case WHERE department_id IS NOT NULL"
        " AND status IN ('accepted', 'in_progress', 'awaiting_citizen', 'answered')"
        " GROUP BY department_id ORDER BY count(*) DESC LIMIT 1"
    )
    people = [ADMIN_ID] + ([FIRST_STAFF + rows[0]["department_id"]] if rows else [])
    pages: dict[tuple[int, str], int] = {}
    for user in people:
        for view in QUEUE_VIEWS:
            first = await queue_page(user, QueueFilter(view), 1, now=now)
            pages[user, view] = first.pages
    times: dict[str, list[float]] = {view: [] for view in QUEUE_VIEWS}
    for n in range(count):
        user, view = people[n % len(people)], QUEUE_VIEWS[n // len(people) % len(QUEUE_VIEWS)]
        page = rng.randint(1, min(DEEPEST_PAGE, pages[user, view]))
        started = time.perf_counter()
        await queue_page(user, QueueFilter(view), page, now=now)
        times[view].append((time.perf_counter() - started) * 1000)
    every = sorted(t for view in times.values() for t in view)
    per_view = {}
    for view, values in times.items():
        values.sort()
        per_view[view] = {
            "p50_ms": round(statistics.median(values), 2),
            "p99_ms": round(percentile(values, 0.99), 2),
        }
    totals = {
        f"{'admin' if user == ADMIN_ID else 'handler'}:{view}": p
        for (user, view), p in pages.items()
    }
    return {
        "requests": len(every),
        "p50_ms": round(statistics.median(every), 2),
        "p99_ms": round(percentile(every, 0.99), 2),
        "views": per_view,
        "pages": totals,
    }


async def bench_file(
    url: str, *, lookups: int, queue_pages: int, searches: int = 1000, seed: int = 1
) -> dict[str, Any]:
    """Open the database as the bot does and time the four reads."""
    rng = random.Random(seed)
    now = datetime.now(UTC)
    await open_database(url)
    try:
        cpu = time.process_time()
        stats = await measure_stats(now)
        stats["cpu_ms"] = _cpu_ms(cpu, 2 * STATS_RUNS + 1)
        cpu = time.process_time()
        lookup = await measure_lookups(rng, lookups)
        lookup["cpu_ms"] = _cpu_ms(cpu, lookup["lookups"])
        cpu = time.process_time()
        queue = await measure_queue(rng, queue_pages, now)
        queue["cpu_ms"] = _cpu_ms(cpu, queue["requests"])
        cpu = time.process_time()
        board = await measure_board(rng, searches)
        board["cpu_ms"] = _cpu_ms(cpu, board["searches"])
        size = await _size_mb(url)
    finally:
        await close_database()
    return {"database_mb": size, "stats": stats, "lookup": lookup, "queue": queue, "board": board}


def _cpu_ms(since: float, operations: int) -> float:
    """This process's CPU per operation since `since` (on SQLite the database's work is done
    in this process too; on PostgreSQL, only the client's): steadier than wall time on a busy
    machine."""
    return round((time.process_time() - since) * 1000 / max(1, operations), 2)


async def _size_mb(url: str) -> float:
    path = sqlite_path(url)
    if path is not None:
        size = sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))
    else:
        rows = await fetch("SELECT pg_database_size(current_database()) AS size")
        size = rows[0]["size"]
    return round(size / 2**20, 1)


async def _cases_in(url: str) -> int:
    """The cases a PostgreSQL database holds already (it is migrated if it was not)."""
    await open_database(url)
    try:
        rows = await fetch("SELECT count(*) AS n FROM service_case")
    finally:
        await close_database()
    return int(rows[0]["n"])


async def run_case_bench(args: argparse.Namespace) -> int:
    """Generate (or reuse `--db`) and measure; with `--database`, move the cases into that
    PostgreSQL database first (or reuse the cases it holds) and measure there. The temporary
    file goes unless --keep."""
    folder = None if args.db else Path(tempfile.mkdtemp(prefix="minsheng-cases-"))
    path = Path(args.db) if folder is None else folder / "cases.sqlite3"
    target = args.database

    def say(text: str) -> None:
        if not args.json:
            print(text, flush=True)

    try:
        made: Generated | None = None
        generator_mb = 0.0
        moved: MoveReport | None = None
        existing = await _cases_in(target) if target else 0
        if existing:
            say(f"reusing {shown(target)}: {existing:,} cases")
        else:
            existing = _case_count(path)
            if existing == 0:
                say(f"generating {args.cases:,} cases into {path}")
                made = await build(path, args.cases, quiet=args.json)
                existing = made.cases
                generator_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            else:
                say(f"reusing {path}: {existing:,} cases")
            if target:
                say(f"moving them into {shown(target)}")
                bar = None if args.json else ProgressBar()
                try:
                    moved = await move_desk(f"sqlite://{path}", target, progress=bar)
                except MoveRefused as refused:
                    print(f"minsheng bench: cannot move the cases: {refused}", file=sys.stderr)
                    return EXIT_REFUSED
        url = target or f"sqlite://{path}"
        figures = await bench_file(
            url, lookups=args.lookups, queue_pages=args.queue_pages, searches=args.searches
        )
        if args.drafts:
            say(f"running the bot on them with {args.drafts:,} open drafts")
            figures["bot"] = await measure_bot(url, args.drafts)
        summary = case_summary(url, existing, made, moved, figures, generator_mb)
        summary["figures"] = figure_rows(summary)
        if args.json:
            print(json.dumps(summary, indent=2, ensure_ascii=False))
        else:
            print_report(summary)
        if folder is not None and args.keep:
            print(f"kept the database: {path}", file=sys.stderr if args.json else sys.stdout)
    finally:
        if folder is not None and not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
    return 0
