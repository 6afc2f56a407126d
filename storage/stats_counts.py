"""The database's side of the desk's figures: the counts per department, and the hours to the
first answer whose median and 90th percentile storage.stats reports.

A month of a city's desk is hundreds of thousands of cases, so each is read once, from an index
that holds every column the figures need (department, created_at, …, migration
0017_stats_index): no case row is read, only its rating is joined. The departments are walked
one by one, so each one's cases come out of that index already grouped; GROUP BY over the
period in created_at order had SQLite sort every case with all those columns first. The
unassigned cases (department NULL) are counted by a second query on the same index.

A period is cut into one part per core (at most four, each at least a day long), and the parts
are read side by side on connections of their own (storage.side_reads): their counts add up,
and their lists of answer times join. A month of a 10-million-case desk is 340,000 cases, which
one core reads in 0.7 to 1.4 s on SQLite, and PostgreSQL in 0.75 s.

Rated cases are joined by an index of the answers the figures count (0019), read alone (a
rating's case, solved and satisfaction: no rating row is read), and the few the
granted disputes take out are counted by a query of their own, from the disputes' side. Each
count is COUNT(*) FILTER (WHERE …), which both databases know: SQLite skips the aggregate's step
for the rows that do not count, where SUM(CASE …) added a 0 for each (10M cases, a month of the
whole desk: 16 % less CPU).

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

import os
from bisect import bisect_right
from dataclasses import dataclass
from datetime import datetime, timedelta

from tortoise.connection import get_connection

from storage.disputes import GRANTED_SQL
from storage.side_reads import fetch_side_by_side, side_by_side
from storage.sql import fetch_values

OPEN_UNANSWERED = ("submitted", "accepted", "in_progress", "awaiting_citizen")
Marks = tuple[float, float]  # median and 90th percentile, hours
HOUR_MS = 3_600_000
# A month of a big desk is read in as many parts as there are cores, at most four (a report
# should not take every core of a bigger machine from the desk's work), each part at least a
# day: a shorter period is over before the side connections would pay for their opening.
PARTS = min(4, os.cpu_count() or 1)
MIN_PART = timedelta(days=1)


def _dialect() -> str:
    return str(get_connection("default").capabilities.dialect)


FIRST = "COALESCE(c.first_answered_at, c.answered_at)"
_OPEN = ", ".join(f"'{s}'" for s in OPEN_UNANSWERED)
_SUMS = f"""
  COUNT(*) AS received,
  COUNT(*) FILTER (WHERE c.accepted_at IS NOT NULL) AS accepted,
  COUNT(*) FILTER (WHERE c.sign_due_at IS NOT NULL
      AND (c.signed_at IS NOT NULL OR c.sign_due_at <= ?)) AS sign_counted,
  COUNT(*) FILTER (WHERE c.signed_at <= c.sign_due_at) AS signed_on_time,
  COUNT(*) FILTER (WHERE c.due_at IS NOT NULL AND ({FIRST} IS NOT NULL
      OR (c.status NOT IN ('merged', 'rejected') AND c.due_at <= ?))) AS response_counted,
  COUNT(*) FILTER (WHERE {FIRST} <= c.due_at) AS responded_on_time,
  COUNT(*) FILTER (WHERE {FIRST} IS NOT NULL) AS answered,
  COUNT(*) FILTER (WHERE c.accepted_at IS NOT NULL AND c.status <> 'merged') AS completion_base,
  COUNT(*) FILTER (WHERE c.status = 'closed') AS completed,
  COUNT(*) FILTER (WHERE c.due_at IS NOT NULL AND (c.status = 'closed'
      OR (c.status IN ({_OPEN}) AND c.due_at <= ?))) AS completion_counted,
  COUNT(*) FILTER (WHERE c.status = 'closed'
      AND COALESCE(c.answered_at, c.closed_at) <= c.due_at) AS completed_on_time,
  COUNT(*) FILTER (WHERE r.case_id IS NOT NULL) AS rated,
  COUNT(*) FILTER (WHERE r.solved IN ('solved', 'partly')) AS resolved,
  COUNT(*) FILTER (WHERE r.satisfaction IN ('satisfied', 'basic')) AS satisfied,
  COUNT(*) FILTER (WHERE c.reopen_count > 0) AS reopened,
  COUNT(*) FILTER (WHERE c.proposal_outcome = 'accepted') AS proposals_accepted,
  COUNT(*) FILTER (WHERE c.proposal_outcome = 'changed') AS proposals_changed,
  COUNT(*) FILTER (WHERE {FIRST} IS NOT NULL AND (r.case_id IS NOT NULL OR EXISTS (SELECT 1
      FROM callback_attempt a WHERE a.case_id = c.id))) AS called_back"""  # noqa: S608 - constants only
# Each department's cases of the period, department by department (CROSS JOIN keeps SQLite's
# loop in that order, so GROUP BY sorts nothing); then the unassigned ones.
_ASSIGNED = "FROM department d CROSS JOIN service_case c{rating} WHERE c.department_id = d.id"
_UNASSIGNED = "FROM service_case c{rating} WHERE c.department_id IS NULL"


def _rating() -> str:
    """The join of the case's rating, one index lookup per case of the period.

    SQLite is told to use the index of the answers counted: it would take the unique index of
    case_id, and read the rating's row for them. PostgreSQL, from its costs, would hash every
    rating of the desk instead (10M cases: 7.8M ratings, spilled to disk, 1.4 s of a 2.1 s
    month); a LATERAL lookup keeps it to the period's cases (the rating is unique per case), and
    reads only what that index holds, so no rating row is read (a month: 1.05 → 0.75 s)."""
    if _dialect() == "sqlite":
        return " LEFT JOIN case_rating r INDEXED BY case_rating_figures ON r.case_id = c.id"
    return (
        " LEFT JOIN LATERAL (SELECT r.case_id, r.solved, r.satisfaction FROM case_rating r"
        " WHERE r.case_id = c.id LIMIT 1) r ON true"
    )


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


def _sorted_milliseconds(parts: list[str | list[int]]) -> list[int]:
    """One department's milliseconds, from the lists of the parts of the period, in order."""
    values: list[int] = []
    for part in parts:
        values.extend(map(int, part.split(",")) if isinstance(part, str) else part)
    values.sort()
    return values


def period_parts(start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """The period cut into PARTS spans of equal length, read side by side (storage.side_reads);
    whole, where the reads would not run at once."""
    if not side_by_side() or PARTS < 2 or end - start < MIN_PART * PARTS:
        return [(start, end)]
    step = (end - start) / PARTS
    cuts = [start + step * n for n in range(1, PARTS)]
    return list(zip([start, *cuts], [*cuts, end], strict=True))


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
    found: dict[int | None, list[str | list[int]]] = {}
    columns = f"{_SUMS}, {_answer_ms()} AS answer_ms"
    where, params = _in("d.id", ids)
    assigned = _ASSIGNED.format(rating=_rating())
    queries = [(f"SELECT d.id AS dept,{columns} {assigned}{_PERIOD}{where} GROUP BY d.id", params)]
    where, params = _in("c.proposed_department_id", ids)
    unassigned = _UNASSIGNED.format(rating=_rating())
    queries.append((f"SELECT NULL AS dept,{columns} {unassigned}{_PERIOD}{where}", params))
    reads = [
        (sql, (now, now, now, part_start, part_end, *params))
        for part_start, part_end in period_parts(start, end)
        for sql, params in queries
    ]
    for rows in await fetch_side_by_side(reads):
        for row in rows:
            dept, times = row.pop("dept"), row.pop("answer_ms")
            if not row["received"]:
                continue
            mine = counts.setdefault(dept, dict.fromkeys(row, 0))
            for name, value in row.items():
                mine[name] += int(value or 0)
            if times is not None:
                found.setdefault(dept, []).append(times)
    answers = {dept: _sorted_milliseconds(found.get(dept, [])) for dept in counts}
    await _take_out_disputed(counts, start, end, ids)
    marks = {dept: _marks(values) for dept, values in answers.items() if values}
    return PeriodFigures(counts, _overall_marks(list(answers.values())), marks)


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


def _ranks(n: int) -> tuple[int, int]:
    """The nearest ranks, from 1, of the median, (n + 1) // 2, and of the 90th percentile,
    (9n + 9) // 10, of n values."""
    return (n + 1) // 2, (9 * n + 9) // 10


def _marks(ordered: list[int]) -> Marks:
    """Hours at the median's and the 90th percentile's ranks of milliseconds in ascending order."""
    median, p90 = _ranks(len(ordered))
    return ordered[median - 1] / HOUR_MS, ordered[p90 - 1] / HOUR_MS


def _overall_marks(lists: list[list[int]]) -> Marks | None:
    """The same marks of all the departments' sorted lists together, without merging them: the
    value of rank k is the least v with at least k values <= v, found by halving [min, max]
    (about 40 rounds of a binary search in each list; sorting 300,000 values took 150 ms)."""
    lists = [values for values in lists if values]
    n = sum(len(values) for values in lists)
    if n == 0:
        return None

    def at_rank(k: int) -> int:
        low, high = min(v[0] for v in lists), max(v[-1] for v in lists)
        while low < high:
            middle = (low + high) // 2
            if sum(bisect_right(values, middle) for values in lists) >= k:
                high = middle
            else:
                low = middle + 1
        return low

    median, p90 = _ranks(n)
    return at_rank(median) / HOUR_MS, at_rank(p90) / HOUR_MS
