"""The database's side of the desk's figures: the counts per department, and the hours to the
first answer whose median and 90th percentile storage.stats reports.

A month of a city's desk is hundreds of thousands of cases, so each is read once, from an index
that holds every column the figures need (department, created_at, …, migration
0017_stats_index): no case row is read, only its rating is joined. The departments are walked
one by one, so each one's cases come out of that index already grouped; GROUP BY over the
period in created_at order had SQLite sort every case with all those columns first. The
unassigned cases (department NULL) are counted by a second query on the same index.

The percentiles are exact, by nearest rank: the seconds of every answered case of the period
come back as numbers and are sorted here, once for each department and once overall. SQL
window functions did the same with two sorts inside the database at three times the cost.

Datetimes are ISO text in SQLite (all UTC, same format), so columns are compared with each other
and with `now` as text; the seconds between two of them come from julianday() there and from
EXTRACT(EPOCH ...) on PostgreSQL.
"""

from __future__ import annotations

from datetime import datetime

from tortoise.connection import get_connection

from storage.disputes import GRANTED_SQL
from storage.sql import fetch, fetch_values

OPEN_UNANSWERED = ("submitted", "accepted", "in_progress", "awaiting_citizen")
Marks = tuple[float, float]  # median and 90th percentile, hours


def _dialect() -> str:
    return str(get_connection("default").capabilities.dialect)


def seconds_between(later: str, earlier: str) -> str:
    """SQL for the seconds from one datetime column to another, in this database's dialect."""
    if _dialect() == "postgres":
        return f"EXTRACT(EPOCH FROM ({later} - {earlier}))"
    return f"((julianday({later}) - julianday({earlier})) * 86400.0)"


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
  SUM(CASE WHEN r.solved IN ('solved', 'partly') AND NOT {GRANTED_SQL} THEN 1 ELSE 0 END)
      AS resolved,
  SUM(CASE WHEN r.satisfaction IN ('satisfied', 'basic') THEN 1 ELSE 0 END) AS satisfied,
  SUM(CASE WHEN c.reopen_count > 0 THEN 1 ELSE 0 END) AS reopened,
  SUM(CASE WHEN c.proposal_outcome = 'accepted' THEN 1 ELSE 0 END) AS proposals_accepted,
  SUM(CASE WHEN c.proposal_outcome = 'changed' THEN 1 ELSE 0 END) AS proposals_changed,
  SUM(CASE WHEN r.id IS NOT NULL AND {GRANTED_SQL} THEN 1 ELSE 0 END) AS disputed,
  SUM(CASE WHEN {FIRST} IS NOT NULL AND (r.id IS NOT NULL OR EXISTS (SELECT 1
      FROM callback_attempt a WHERE a.case_id = c.id)) THEN 1 ELSE 0 END) AS called_back"""  # noqa: S608 - constants only
# Each department's cases of the period, department by department (CROSS JOIN keeps SQLite's
# loop in that order, so GROUP BY sorts nothing); then the unassigned ones.
_ASSIGNED = "FROM department d CROSS JOIN service_case c{rating} WHERE c.department_id = d.id"
_UNASSIGNED = "FROM service_case c{rating} WHERE c.department_id IS NULL"
_RATING = " LEFT JOIN case_rating r ON r.case_id = c.id"
_PERIOD = " AND c.created_at >= ? AND c.created_at < ?"


def _in(column: str, ids: list[int] | None) -> tuple[str, list[int]]:
    if ids is None:
        return "", []
    return f" AND {column} IN ({', '.join('?' for _ in ids)})", list(ids)


async def period_counts(
    start: datetime, end: datetime, ids: list[int] | None, now: datetime
) -> dict[int | None, dict[str, int]]:
    """The counts of the cases received in [start, end) by department (None: unassigned ones,
    which a scope takes by their proposed department), for departments `ids` or all."""
    found: dict[int | None, dict[str, int]] = {}
    where, params = _in("d.id", ids)
    assigned = _ASSIGNED.format(rating=_RATING)
    for row in await fetch(
        f"SELECT d.id AS dept,{_SUMS} {assigned}{_PERIOD}{where} GROUP BY d.id",
        *(now, now, now, start, end, *params),
    ):
        dept = row.pop("dept")
        found[dept] = {k: int(v or 0) for k, v in row.items()}
    where, params = _in("c.proposed_department_id", ids)
    unassigned = _UNASSIGNED.format(rating=_RATING)
    for row in await fetch(
        f"SELECT{_SUMS} {unassigned}{_PERIOD}{where}", *(now, now, now, start, end, *params)
    ):
        if row["received"]:
            found[None] = {k: int(v or 0) for k, v in row.items()}
    return found


async def answer_percentiles(
    start: datetime, end: datetime, ids: list[int] | None
) -> tuple[Marks | None, dict[int | None, Marks]]:
    """Median and 90th percentile (nearest rank) of hours to the first answer: overall, and
    per department, of the period's answered cases."""
    seconds = seconds_between(FIRST, "c.created_at")
    answered = f"{_PERIOD} AND {FIRST} IS NOT NULL"
    by_dept: dict[int | None, list[float]] = {}
    where, params = _in("d.id", ids)
    assigned = _ASSIGNED.format(rating="")
    sql = f"SELECT d.id, {seconds} {assigned}{answered}{where}"
    for dept, secs in await fetch_values(sql, start, end, *params):
        by_dept.setdefault(dept, []).append(float(secs))
    where, params = _in("c.proposed_department_id", ids)
    unassigned = _UNASSIGNED.format(rating="")
    rows = await fetch_values(
        f"SELECT {seconds} {unassigned}{answered}{where}", start, end, *params
    )
    if rows:
        by_dept[None] = [float(row[0]) for row in rows]
    every = sorted(s for values in by_dept.values() for s in values)
    per_dept = {dept: _marks(sorted(values)) for dept, values in by_dept.items()}
    return (_marks(every) if every else None), per_dept


def _marks(ordered: list[float]) -> Marks:
    """Hours at the nearest ranks of the median, (n + 1) // 2, and of the 90th percentile,
    (9n + 9) // 10, of seconds in ascending order."""
    n = len(ordered)
    return ordered[(n + 1) // 2 - 1] / 3600, ordered[(9 * n + 9) // 10 - 1] / 3600
