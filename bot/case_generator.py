"""Realistic cases in bulk: a desk's years of history in one SQLite file, for `minsheng bench`.

The file is migrated and its catalogue loaded exactly as the bot does at start-up; the cases are
then written with plain SQL in large transactions (the ORM would take hours for a million). Rows
look like the ones the app writes: datetimes as Tortoise stores them in SQLite (ISO-8601 text in
UTC with the offset), enums as their values, JSON compact, tracking numbers from the app's own
generator.

Each case lives a full life drawn in advance (submitted, accepted, signed for, maybe a question
to the citizen, answered, rated, closed, an unsatisfied rating sometimes disputed by its
department; or rejected, or merged into an earlier one), and the life is cut at `end`: what
has not happened by then has not happened, so recent cases are still open and late ones are
overdue, as at a real desk.

Its parts: case_generator_times (when cases come), case_generator_choices (what they are made
of), case_generator_life (one case's life), case_generator_rows (the rows and their writer),
case_generator_sweeps (the sweeps' past marks on open cases).
"""

from __future__ import annotations

import asyncio
import math
import random
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bot.case_generator_life import CaseLife
from bot.case_generator_rows import (
    CHUNK,
    TrackingNumbers,
    Writer,
    categories,
    ensure_citizens,
    ensure_staff,
    secondary_indexes,
)
from bot.case_generator_times import (
    DAY,
    HOUR,
    YEARS,
    hour_weights,
    moments,
    monthly_category_weights,
)
from storage.catalog import SAMPLE_CATALOG, catalog_loaded, load_catalog
from storage.db import close_database, open_database


@dataclass(frozen=True)
class Generated:
    cases: int
    events: int
    ratings: int
    citizens: int
    seconds: float

    @property
    def cases_per_second(self) -> float:
        return self.cases / self.seconds if self.seconds else 0.0


async def prepare(url: str) -> None:
    """Migrate and load the sample catalogue, as the bot does at its first start."""
    await open_database(url)
    try:
        if not await catalog_loaded():
            await load_catalog(SAMPLE_CATALOG)
    finally:
        await close_database()


def generate(
    path: Path,
    n: int,
    *,
    seed: int = 12345,
    end: datetime | None = None,
    progress: Callable[[int, float], None] | None = None,
) -> Generated:
    """Add `n` cases to the SQLite file at `path` (migrated, catalogue loaded: see prepare)."""
    started = time.perf_counter()
    rng = random.Random(seed)  # noqa: S311 - made-up data, not secrets
    end_ts = (end or datetime.now(UTC)).timestamp()
    start_ts = end_ts - YEARS * 365 * DAY
    db = sqlite3.connect(path, isolation_level=None)
    try:
        db.execute("PRAGMA synchronous = OFF")
        db.execute("PRAGMA cache_size = -200000")
        leaves = categories(db)
        staff_by_department = ensure_staff(db, start_ts)
        next_case = (db.execute("SELECT MAX(id) FROM service_case").fetchone()[0] or 0) + 1
        citizens = max(50, n // 3)
        first_citizen = ensure_citizens(db, citizens, start_ts, rng)
        numbers = TrackingNumbers(rng)
        # Rebuilding the secondary indexes once is far faster than keeping them up row by row.
        indexes = secondary_indexes(
            db, ("service_case", "case_event", "case_rating", "rating_dispute")
        )
        for name, _ in indexes:
            db.execute(f'DROP INDEX "{name}"')
        try:
            writer = Writer(db, next_case)
            hours = int((end_ts - start_ts) // HOUR)
            times = moments(rng, hour_weights(start_ts, hours), start_ts, n)
            monthly = monthly_category_weights(leaves)
            life = CaseLife(rng, leaves, monthly, staff_by_department, end_ts)
            for done, created in enumerate(times, start=1):
                citizen = first_citizen + int(citizens * rng.random() ** 1.6)  # some file often
                life.write(writer, numbers.next(writer.case_id), citizen, created)
                if len(writer.cases) >= CHUNK:
                    writer.flush()
                    if progress:
                        progress(done, time.perf_counter() - started)
            writer.flush()
        finally:  # the schema is the migrations' again, whatever happened
            for _, sql in indexes:
                db.execute(sql)
        if progress:
            progress(n, time.perf_counter() - started)
        db.execute("PRAGMA synchronous = FULL")
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return Generated(
            n, writer.event_count, writer.rating_count, citizens, time.perf_counter() - started
        )
    finally:
        db.close()


def _rate(done: int, seconds: float) -> str:
    return f"{done:,} cases in {seconds:.1f} s ({done / seconds if seconds else math.inf:,.0f}/s)"


async def build(path: Path, n: int, *, seed: int = 12345, quiet: bool = False) -> Generated:
    """Migrate `path` the bot's way, load the catalogue, and add `n` cases, printing progress."""
    path.parent.mkdir(parents=True, exist_ok=True)
    await prepare(f"sqlite://{path}")

    reported = [0]

    def report(done: int, seconds: float) -> None:
        # The last call comes after the indexes are rebuilt, with the same count.
        what = "with indexes" if done == reported[0] else "generated"
        reported[0] = done
        if not quiet:
            print(f"  {what} {_rate(done, seconds)}", flush=True)

    return await asyncio.to_thread(generate, path, n, seed=seed, progress=report)
