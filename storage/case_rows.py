"""A case read in plain SQL: the row of the status lookup, the desk's busiest read, and of a
case just filed.

The ORM builds this join (category, department, proposed department) in about as long as the
database takes to run it; here it is written once, and the row is given the values the ORM
would give (decoded JSON, aware datetimes, booleans) so that storage.case_views reads it alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from storage.sql import as_datetime, as_json, fetch

_CASE_SQL = """
SELECT c.id, c.tracking, c.citizen_id, c.kind, g.code AS category__code,
  d.code AS department__code, p.code AS proposed_department__code, c.proposal_reason,
  c.status, c.text, c.photos, c.attachments, c.latitude, c.longitude, c.address, c.answers,
  c.phone, c.anonymous, c.channel, c.created_at, c.due_at, c.updated_at, c.erased_at"""
_FROM = """
FROM service_case c
JOIN category g ON g.id = c.category_id
LEFT JOIN department d ON d.id = c.department_id
LEFT JOIN department p ON p.id = c.proposed_department_id
"""
_JSON = ("proposal_reason", "photos", "attachments", "answers")
_MOMENTS = ("created_at", "updated_at")
_MAYBE_MOMENTS = ("due_at", "erased_at")


async def citizen_case_row(
    canonical: str, citizen_id: int, *, extra: str = "", extra_params: Sequence[Any] = ()
) -> dict[str, Any] | None:
    """The row (storage.case_views.CASE_COLUMNS) of the citizen's case with this canonical
    number, or None when there is none or it is someone else's. `extra`: more columns of the
    case `c` (SQL, its parameters in `extra_params`), given as the database reads them."""
    return _row(
        await fetch(
            _select(extra) + " WHERE c.tracking = ? AND c.citizen_id = ?",
            *extra_params,
            canonical,
            citizen_id,
        )
    )


async def case_row_by_id(case_id: int) -> dict[str, Any] | None:
    """The row (storage.case_views.CASE_COLUMNS) of the case with this id (a case just filed)."""
    return _row(await fetch(_select("") + " WHERE c.id = ?", case_id))


def _select(extra: str) -> str:
    return _CASE_SQL + (f", {extra}" if extra else "") + _FROM


def _row(rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    if not rows:
        return None
    row = dict(rows[0])
    for name in _JSON:
        row[name] = as_json(row[name])
    for name in _MOMENTS:
        row[name] = as_datetime(row[name])
    for name in _MAYBE_MOMENTS:
        row[name] = None if row[name] is None else as_datetime(row[name])
    row["anonymous"] = bool(row["anonymous"])
    return row
