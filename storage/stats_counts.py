"""The database's side of the desk's figures: the counts per department, and the hours to the
first answer whose median and 90th percentile storage.stats reports.

A month of a city's desk is hundreds of thousands of cases, so each is read once, from an index
that holds every column the figures need (department, created_at, …, migration
0017_stats_index): no case row is read, only its rating is joined. The departments are walked
one by one, so each one's cases come out of that index already grouped; GROUP BY over the
period in created_at order had SQLite sort every case with all those columns first. The
unassigned cases (department NULL) are counted by a second query on the same index.

Rated cases are joined by an index of the answers the figures count (0019), and the few the
granted disputes take out are counted by a query of their own, from the disputes' side.

The percentiles are exact, by nearest rank, to the millisecond: the same pass gives each
department's milliseconds to the first answer as one list (group_concat on SQLite, array_agg on
PostgreSQL), sorted here, once for each department and once overall. A second pass that
returned a row per answered case cost as much again; SQL window functions did the ranking
with two sorts inside the database at three times the cost.

Datetimes are ISO text in SQLite (all UTC, same format), so columns are compared with each other
and with `now` as text; the milliseconds between two of them come from julianday() there and
from EXTRACT(EPOCH ...) on PostgreSQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tortoise.connection import get_connection

from storage.disputes import GRANTED_SQL
from storage.sql import fetch, fetch_values

OPEN_UNANSWERED = ("submitted", "accepted", "in_progress", "awaiting_citizen")
Marks = tuple[float, float]  # median and 90th percentile, hours
HOUR_MS = 3_600_000


def _dialect() -> str:
    return str(get_connection("default").capabilities.dialect)


FIRST = "COALESCE(c.first_answered_at, c.answered_at)"
_OPEN = ", ".join(f"'{s}'" for s in OPEN_UNANSWERED)
_SUMS = f"""
  COUNT(*) AS received,
  SUM(CASE WHEN c.accepted_at IS NOT NULL THEN 1 ELSE 0 END) AS accepted,
  SUM(CASE WHEN c.sign_due_at IS NOT NULL AND (c.signed_at IS NOT NULL OR c.sign_due_at <= ?)
      THEN 1 ELSE 0 END) AS sign_counted,
  SUM(CASE WHEN c.signed_at <= c.sign_due_at THEN 1 ELSE 0 END) AS signed_on_time,
  SUM(CASE WHEN c.due_at IS NOT NULL AND ({FIRST} IS NOT NULL
      OR (c.status NOT IN ('merged', 'rejected') AND c.due_at <= ?)) THEN 1 ELSE 0 END)
      AS response_counted,
  SUM(CASE WHEN {FIRST} <= c.due_at THEN 1 ELSE 0 END) AS responded_on_time,
  SUM(CASE WHEN {FIRST} IS NOT NULL THEN 1 ELSE 0 END) AS answered,
  SUM(CASE WHEN c.accepted_at IS NOT NULL AND c.status <> 'merged' THEN 1 ELSE 0 END)
      AS completion_base,
  SUM(CASE WHEN c.status = 'closed' THEN 1 ELSE 0 END) AS completed,
  SUM(CASE WHEN c.due_at IS NOT NULL AND (c.status = 'closed'
      OR (c.status IN ({_OPEN}) AND c.due_at <= ?)) THEN 1 ELSE 0 END) AS completion_counted,
  SUM(CASE WHEN c.status = 'closed' AND COALESCE(c.answered_at, c.closed_at) <= c.due_at
      THEN 1 ELSE 0 END) AS completed_on_time,
  SUM(CASE WHEN r.id IS NOT NULL THEN 1 ELSE 0 END) AS rated,
  SUM(CASE WHEN r.solved IN ('solved', 'partly') THEN 1 ELSE 0 END) AS resolved,
  SUM(CASE WHEN r.satisfaction IN ('satisfied', 'basic') THEN 1 ELSE 0 END) AS satisfied,
  SUM(CASE WHEN c.reopen_count > 0 THEN 1 ELSE 0 END) AS reopened,
  SUM(CASE WHEN c.proposal_outcome = 'accepted' THEN 1 ELSE 0 END) AS proposals_accepted,
  SUM(CASE WHEN c.proposal_outcome = 'changed' THEN 1 ELSE 0 END) AS proposals_changed,
  SUM(CASE WHEN {FIRST} IS NOT NULL AND (r.id IS NOT NULL OR EXISTS (SELECT 1
      FROM callback_attempt a WHERE a.case_id = c.id)) THEN 1 ELSE 0 END) AS called_back"""  # noqa: S608 - constants only
# Each department's cases of the period, department by department (CROSS JOIN keeps SQLite's
# loop in that order, so GROUP BY sorts nothing); then the unassigned ones.
_ASSIGNED = "FROM department d CROSS JOIN service_case c{rating} WHERE c.department_id = d.id"
_UNASSIGNED = "FROM service_case c{rating} WHERE c.department_id IS NULL"


def _rating() -> str:
    """The join of the case's rating. SQLite is told to use the index of the answers counted: it
    would take the unique index of case_id, and read the rating's row for them."""
    index = " INDEXED BY case_rating_figures" if _dialect() == "sqlite" else ""
    return f" LEFT JOIN case_rating r{index} ON r.case_id = c.id"


_PERIOD = " AND c.created_at >= ? AND c.created_at < ?"


def _in(column: str, ids: list[int] | None) -> tuple[str, list[int]]:
    if ids is None:
        return "", []
    return f" AND {column} IN ({', '.join('?' for _ in ids)})", list(ids)


def _answer_ms() -> str:
    """SQL for the milliseconds to the first answer of the group's answered cases, as one list:
    text of comma-separated integers on SQLite (group_concat skips the unanswered, NULL), an
    array on PostgreSQL."""
    if _dialect() == "postgres":
        ms = f"round(EXTRACT(EPOCH FROM ({FIRST} - c.created_at)) * 1000)::bigint"
        return f"array_agg({ms}) FILTER (WHERE {FIRST} IS NOT NULL)"
    # SQLite keeps a datetime as whole milliseconds, so this difference is exact.
    ms = f"round((julianday({FIRST}) - julianday(c.created_at)) * 86400000.0)"
    return f"group_concat(CAST({ms} AS INTEGER))"


def _milliseconds(found: str | list[int] | None) -> list[int]:
    if found is None:
        return []
    if isinstance(found, str):
        return [int(ms) for ms in found.split(",")]
    return list(found)


@dataclass(frozen=True)
class PeriodFigures:
    """The counts of the cases received in a period by department (None: the unassigned ones),
    and the median and 90th percentile of hours to the first answer, overall and by department."""

    counts: dict[int | None, dict[str, int]]
    overall: Marks | None
    marks: dict[int | None, Marks]


async def period_figures(
    start: datetime, end: datetime, ids: list[int] | None, now: datetime
) -> PeriodFigures:
    """The figures of the cases received in [start, end), for departments `ids` or all (a scope
    takes the unassigned cases by their proposed department)."""
    counts: dict[int | None, dict[str, int]] = {}
    answers: dict[int | None, list[int]] = {}
    columns = f"{_SUMS}, {_answer_ms()} AS answer_ms"
    where, params = _in("d.id", ids)
    assigned = _ASSIGNED.format(rating=_rating())
    queries = [(f"SELECT d.id AS dept,{columns} {assigned}{_PERIOD}{where} GROUP BY d.id", params)]
    where, params = _in("c.proposed_department_id", ids)
    unassigned = _UNASSIGNED.format(rating=_rating())
    queries.append((f"SELECT NULL AS dept,{columns} {unassigned}{_PERIOD}{where}", params))
    for sql, params in queries:
        for row in await fetch(sql, *(now, now, now, start, end, *params)):
            dept, found = row.pop("dept"), row.pop("answer_ms")
            if row["received"]:
                counts[dept] = {k: int(v or 0) for k, v in row.items()}
                answers[dept] = sorted(_milliseconds(found))
    await _take_out_disputed(counts, start, end, ids)
    # The departments' lists are each sorted already: sorting them end to end merges runs.
    every = sorted(ms for values in answers.values() for ms in values)
    marks = {dept: _marks(values) for dept, values in answers.items() if values}
    return PeriodFigures(counts, _marks(every) if every else None, marks)


async def _take_out_disputed(
    found: dict[int | None, dict[str, int]], start: datetime, end: datetime, ids: list[int] | None
) -> None:
    """Count the rated cases a granted dispute covers, and take them out of `resolved`.

    Granted disputes are few, so they are read from their own index, not probed for every rated
    case of the period. A dispute is filed after the rating it covers, so after the case was
    received: one filed before `start` cannot cover a case of the period. An unassigned case has
    none (a dispute is its department's)."""
    for counts in found.values():
        counts["disputed"] = 0
    where, params = _in("c.department_id", ids)
    for dept, disputed, solved in await fetch_values(
        "SELECT c.department_id, COUNT(*), SUM(CASE WHEN r.solved IN ('solved', 'partly')"  # noqa: S608 - constants only
        " THEN 1 ELSE 0 END) FROM service_case c JOIN case_rating r ON r.case_id = c.id"
        " WHERE c.id IN (SELECT gd.case_id FROM rating_dispute gd WHERE gd.status = 'granted'"
        f" AND gd.filed_at >= ?){_PERIOD} AND {GRANTED_SQL}{where} GROUP BY c.department_id",
        start,
        start,
        end,
        *params,
    ):
        counts = found[dept]
        counts["disputed"] = int(disputed)
        counts["resolved"] -= int(solved or 0)


def _marks(ordered: list[int]) -> Marks:
    """Hours at the nearest ranks of the median, (n + 1) // 2, and of the 90th percentile,
    (9n + 9) // 10, of milliseconds in ascending order."""
    n = len(ordered)
    return ordered[(n + 1) // 2 - 1] / HOUR_MS, ordered[(9 * n + 9) // 10 - 1] / HOUR_MS
