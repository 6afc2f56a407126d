"""The /queue pages over every open case (an admin's or an unrestricted supervisor's now, open,
department and overdue views) and a handler's "now", in plain SQL on the partial indexes of
migration 0018.

A page's ids come from a walk of the open cases in id order that stops after the page, rather
than from a sort of every open case (SQLite, 1M cases with 100k open, the "now" page's ids:
24 ms → 0.03 ms). The open statuses are written into the SQL as they stand in the index's
condition: a database uses a partial index only for a query that holds that condition in the
same form, and never for parameters. SQLite, without statistics, is told the index by name
(INDEXED BY); PostgreSQL's planner finds it. A count reads every entry it counts (100k open
cases: 5–20 ms), so the views over every open case are counted only up to a cap
(storage.queue.COUNT_CAP); a department's open cases are counted whole.
"""

from __future__ import annotations

from datetime import datetime

from tortoise.connection import get_connection

from storage.case_views import OPEN_STATUSES
from storage.models import CaseStatus
from storage.sql import fetch_values

# As migration 0018 writes them (tests/test_queue_open.py checks that the two agree).
OPEN = "(" + ", ".join(f"'{status}'" for status in sorted(OPEN_STATUSES)) + ")"
WAITING = f"status = '{CaseStatus.SUBMITTED}' OR route_by_hand"

# The cases of each view.
OPEN_CASES = f"status IN {OPEN}"
LATE = f"status IN {OPEN} AND due_at < ?"  # overdue; the first part of "now"
# The rest of "now": new or to route by hand, and not overdue (a case without a due date is
# not overdue: `due_at < now` is NULL, as the ORM's own query had it).
WAITING_ON_TIME = f"status IN {OPEN} AND ({WAITING}) AND (due_at IS NULL OR due_at >= ?)"
ROUTED = f"status IN {OPEN} AND department_id IS NOT NULL"
# A handler's "now": the department's open cases, the overdue ones first.
THEIRS = f"status IN {OPEN} AND department_id = ?"
THEIRS_LATE = f"{THEIRS} AND due_at < ?"
THEIRS_ON_TIME = f"{THEIRS} AND (due_at IS NULL OR due_at >= ?)"


def _table(index: str | None) -> str:
    dialect = get_connection("default").capabilities.dialect
    return f"service_case INDEXED BY {index}" if index and dialect == "sqlite" else "service_case"


async def _count(condition: str, index: str | None, *params: object, up_to: int = 0) -> int:
    """How many cases meet `condition`; with `up_to`, counted no further than that."""
    cases = f"SELECT 1 FROM {_table(index)} WHERE {condition}"  # noqa: S608 - constants
    if up_to:
        cases, params = f"{cases} LIMIT ?", (*params, up_to)
    rows = await fetch_values(f"SELECT count(*) FROM ({cases}) AS counted", *params)  # noqa: S608
    return int(rows[0][0])


async def _ids(
    condition: str, index: str | None, offset: int, limit: int, *params: object
) -> list[int]:
    sql = f"SELECT id FROM {_table(index)} WHERE {condition} ORDER BY id LIMIT ? OFFSET ?"  # noqa: S608
    return [int(row[0]) for row in await fetch_values(sql, *params, limit, offset)]


async def count_all(view: str, now: datetime, up_to: int) -> int:
    """How many cases a view over every open case holds (view: now, open, department, overdue),
    counted no further than `up_to`."""
    if view == "now":
        late = await _count(LATE, None, now, up_to=up_to)  # the status index's ranges
        if late >= up_to:
            return late
        return late + await _count(
            WAITING_ON_TIME, "service_case_waiting", now, up_to=up_to - late
        )
    if view == "overdue":
        return await _count(LATE, None, now, up_to=up_to)
    condition = ROUTED if view == "department" else OPEN_CASES
    return await _count(condition, "service_case_open", up_to=up_to)


async def count_department(department: int) -> int:
    """How many open cases a department holds: a handler's "now", counted whole (the
    department, status, due_at, id index's ranges)."""
    return await _count(THEIRS, None, department)


async def page_ids(
    view: str, offset: int, limit: int, now: datetime, department: int | None = None
) -> list[int]:
    """The ids of one page, oldest first; for "now", the overdue ones first, then the others."""
    if view == "overdue":
        return await _ids(LATE, "service_case_open", offset, limit, now)
    if view != "now":
        condition = ROUTED if view == "department" else OPEN_CASES
        return await _ids(condition, "service_case_open", offset, limit)
    late_params: tuple[object, ...]
    rest_params: tuple[object, ...]
    late_index: str | None
    rest_index: str | None
    if department is None:
        late, late_index, late_params = LATE, "service_case_open", (now,)
        rest, rest_index, rest_params = WAITING_ON_TIME, "service_case_waiting", (now,)
    else:
        # The department's own cases come from its (department, status, due_at, id) index:
        # a walk of every open case in id order would pass all the other departments' too.
        late, late_index, late_params = THEIRS_LATE, None, (department, now)
        rest, rest_index, rest_params = THEIRS_ON_TIME, None, (department, now)
    ids = await _ids(late, late_index, offset, limit, *late_params)
    if len(ids) == limit:
        return ids
    # Past the overdue ones: where the page starts among the others.
    lates = offset + len(ids) if ids else await _count(late, None, *late_params, up_to=offset)
    more = await _ids(rest, rest_index, max(0, offset - lates), limit - len(ids), *rest_params)
    return ids + more
