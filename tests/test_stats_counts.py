"""The figures read department by department from the stats index (storage.stats_counts) are
exactly those of the plain computation: one query grouped by department over the period's cases,
and the percentiles ranked by SQL window functions.

The desk is generated (bot.case_generator): thousands of cases over three years, some still open
and some overdue at `now`, some ratings disputed, so each figure is checked on every kind of case,
for several months, for the whole desk and for a department's subtree. Where the machine has
more than one core, each month is read in parts side by side (storage.side_reads), and the
parts' counts and lists add up to the same figures. The percentiles are
counted to the millisecond, the reference's in seconds as a float: they agree to 1e-9. The
hand-counted figures, disputes and callbacks included, are checked on SQLite and PostgreSQL by
tests/test_stats.py. On PostgreSQL, whose parts are read on connections of their own, the
same desk moved there gives exactly SQLite's figures.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.case_generator import build
from storage.db import close_database, open_database
from storage.disputes import GRANTED_SQL
from storage.move import move_desk
from storage.sql import fetch
from storage.stats import Stats, compute_stats, scope_ids, scope_sql
from storage.stats_counts import PARTS, period_parts

N = 4000

_FIRST = "COALESCE(c.first_answered_at, c.answered_at)"
_OPEN = "'submitted', 'accepted', 'in_progress', 'awaiting_citizen'"
# The plain computation, as storage.stats made it before the stats index.
PLAIN_COUNTS = f"""
SELECT c.department_id AS dept,
  COUNT(*) AS received,
  SUM(CASE WHEN c.accepted_at IS NOT NULL THEN 1 ELSE 0 END) AS accepted,
  SUM(CASE WHEN c.sign_due_at IS NOT NULL AND (c.signed_at IS NOT NULL OR c.sign_due_at <= ?)
      THEN 1 ELSE 0 END) AS sign_counted,
  SUM(CASE WHEN c.signed_at <= c.sign_due_at THEN 1 ELSE 0 END) AS signed_on_time,
  SUM(CASE WHEN c.due_at IS NOT NULL AND ({_FIRST} IS NOT NULL
      OR (c.status NOT IN ('merged', 'rejected') AND c.due_at <= ?)) THEN 1 ELSE 0 END)
      AS response_counted,
  SUM(CASE WHEN {_FIRST} <= c.due_at THEN 1 ELSE 0 END) AS responded_on_time,
  SUM(CASE WHEN {_FIRST} IS NOT NULL THEN 1 ELSE 0 END) AS answered,
  SUM(CASE WHEN c.accepted_at IS NOT NULL AND c.status <> 'merged' THEN 1 ELSE 0 END)
      AS completion_base,
  SUM(CASE WHEN c.status = 'closed' THEN 1 ELSE 0 END) AS completed,
  SUM(CASE WHEN c.due_at IS NOT NULL AND (c.status = 'closed'
      OR (c.status IN ({_OPEN}) AND c.due_at <= ?)) THEN 1 ELSE 0 END) AS completion_counted,
  SUM(CASE WHEN c.status = 'closed' AND COALESCE(c.answered_at, c.closed_at) <= c.due_at
      THEN 1 ELSE 0 END) AS completed_on_time,
  SUM(CASE WHEN r.id IS NOT NULL THEN 1 ELSE 0 END) AS rated,
  SUM(CASE WHEN r.solved IN ('solved', 'partly') AND NOT {GRANTED_SQL} THEN 1 ELSE 0 END)
      AS resolved,
  SUM(CASE WHEN r.satisfaction IN ('satisfied', 'basic') THEN 1 ELSE 0 END) AS satisfied,
  SUM(CASE WHEN c.reopen_count > 0 THEN 1 ELSE 0 END) AS reopened,
  SUM(CASE WHEN c.proposal_outcome = 'accepted' THEN 1 ELSE 0 END) AS proposals_accepted,
  SUM(CASE WHEN c.proposal_outcome = 'changed' THEN 1 ELSE 0 END) AS proposals_changed,
  SUM(CASE WHEN r.id IS NOT NULL AND {GRANTED_SQL} THEN 1 ELSE 0 END) AS disputed,
  SUM(CASE WHEN {_FIRST} IS NOT NULL AND (r.id IS NOT NULL OR EXISTS (SELECT 1
      FROM callback_attempt a WHERE a.case_id = c.id)) THEN 1 ELSE 0 END) AS called_back
FROM service_case c LEFT JOIN case_rating r ON r.case_id = c.id
WHERE c.created_at >= ? AND c.created_at < ?"""  # noqa: S608 - constants only
_SECONDS = f"((julianday({_FIRST}) - julianday(c.created_at)) * 86400.0)"
_PICKED = " OR ".join(
    f"{rank} = ({k} * {n} + {k}) / {d}"
    for rank, n in (("rn", "n"), ("rn_all", "n_all"))
    for k, d in ((1, 2), (9, 10))
)
PLAIN_PERCENTILES = (
    "SELECT dept, rn, n, rn_all, n_all, secs FROM (SELECT dept, secs,"  # noqa: S608
    " ROW_NUMBER() OVER (PARTITION BY dept ORDER BY secs) AS rn,"
    " COUNT(*) OVER (PARTITION BY dept) AS n,"
    " ROW_NUMBER() OVER (ORDER BY secs) AS rn_all, COUNT(*) OVER () AS n_all"
    f" FROM (SELECT c.department_id AS dept, {_SECONDS} AS secs FROM service_case c"
    f" WHERE c.created_at >= ? AND c.created_at < ? AND {_FIRST} IS NOT NULL{{where}}) b) t"
    f" WHERE {_PICKED}"
)


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, datetime]:
    path = tmp_path_factory.mktemp("stats") / "cases.sqlite3"
    made = asyncio.run(build(path, N, quiet=True))
    assert made.cases == N
    return path, datetime.now(UTC)


async def plain(start: datetime, end: datetime, code: str | None, now: datetime) -> dict[str, Any]:
    """Counts by department id and (median, p90) hours by department id, and overall."""
    where, params = scope_sql(await scope_ids(code))
    rows = await fetch(
        PLAIN_COUNTS + where + " GROUP BY c.department_id", now, now, now, start, end, *params
    )
    counts = {row.pop("dept"): {k: int(v or 0) for k, v in row.items()} for row in rows}
    marks: dict[Any, dict[str, float]] = {}
    for row in await fetch(PLAIN_PERCENTILES.format(where=where), start, end, *params):
        hours = float(row["secs"]) / 3600
        for key, rank, n in (
            (row["dept"], row["rn"], row["n"]),
            ("all", row["rn_all"], row["n_all"]),
        ):
            if int(rank) == (int(n) + 1) // 2:
                marks.setdefault(key, {})["median"] = hours
            if int(rank) == (9 * int(n) + 9) // 10:
                marks.setdefault(key, {})["p90"] = hours
    return {"counts": counts, "marks": marks}


def _marks(figures: Any) -> dict[str, float]:
    if figures.median_answer_hours is None:
        return {}
    return {"median": figures.median_answer_hours, "p90": figures.p90_answer_hours}


def _periods(now: datetime) -> list[tuple[datetime, datetime]]:
    """Four months back from `now`, and the whole desk."""
    periods = [
        (now - timedelta(days=30 * k), now - timedelta(days=30 * (k - 1))) for k in (1, 2, 7, 20)
    ]
    return [*periods, (now - timedelta(days=3 * 365), now)]


SCOPES = (None, "housing-bureau", "heating-company")


async def test_every_figure_equals_the_plain_computation(desk: tuple[Path, datetime]) -> None:
    path, now = desk
    await open_database(f"sqlite://{path}")
    try:
        codes = {row["id"]: row["code"] for row in await fetch("SELECT id, code FROM department")}
        ids = {code: i for i, code in codes.items()}
        periods = _periods(now)
        parts = [len(period_parts(start, end)) for start, end in periods]
        assert parts == [PARTS] * len(periods)  # one part only on a machine of one core
        checked = 0
        for start, end in periods:
            for code in SCOPES:
                got = await compute_stats(start, end, code, now=now)
                want = await plain(start, end, code, now)
                by_id = {
                    (None if d.code is None else ids[d.code]): d.figures for d in got.departments
                }
                assert set(by_id) == set(want["counts"])
                for dept, counts in want["counts"].items():
                    figures = by_id[dept]
                    assert {k: getattr(figures, k) for k in counts} == counts
                    assert _marks(figures) == pytest.approx(want["marks"].get(dept, {}), rel=1e-9)
                assert _marks(got.total) == pytest.approx(want["marks"].get("all", {}), rel=1e-9)
                total = {
                    k: sum(c[k] for c in want["counts"].values()) for k in ("received", "rated")
                }
                assert (got.total.received, got.total.rated) == (total["received"], total["rated"])
                checked += got.total.received
        assert checked > N  # every period had cases, and the whole desk is among them
    finally:
        await close_database()


async def _every_report(url: str, now: datetime) -> list[Stats]:
    await open_database(url)
    try:
        assert [len(period_parts(*period)) for period in _periods(now)] == [PARTS] * 5
        return [
            await compute_stats(start, end, code, now=now)
            for start, end in _periods(now)
            for code in SCOPES
        ]
    finally:
        await close_database()


async def test_postgresql_reads_the_parts_apart_and_gives_sqlites_figures(
    desk: tuple[Path, datetime], postgres_url: str
) -> None:
    path, now = desk
    want = await _every_report(f"sqlite://{path}", now)
    moved = await move_desk(f"sqlite://{path}", postgres_url)
    assert moved.rows["service_case"] == N
    got = await _every_report(postgres_url, now)
    assert [report.total.received for report in got] == [report.total.received for report in want]
    # Counts agree exactly. Times agree to the millisecond: SQLite's julianday() reads the first
    # three digits of a second's fraction, PostgreSQL all six.
    assert [_counted(report) for report in got] == [_counted(report) for report in want]
    times = [hours for report in got for hours in _timed(report)]
    assert times == pytest.approx([h for r in want for h in _timed(r)], abs=ONE_MS_IN_HOURS)


ONE_MS_IN_HOURS = 1.001 / 3_600_000


def _counted(report: Stats) -> list[Any]:
    figures = [report.total, *(d.figures for d in report.departments)]
    codes = [d.code for d in report.departments]
    return [codes, [replace(f, median_answer_hours=None, p90_answer_hours=None) for f in figures]]


def _timed(report: Stats) -> list[float]:
    figures = [report.total, *(d.figures for d in report.departments)]
    return [hours for f in figures for hours in _marks(f).values()]
