"""The cases of a period as a CSV file for spreadsheets: figures only, no personal data.

UTF-8 with a byte-order mark, so spreadsheet programs open Chinese names correctly. Columns
say what happened when; names, phone numbers, citizen ids, texts and places are left out. Rows
are read in chunks in (created_at, id) order, the order of the created_at index, so a big
period streams without holding every case in memory.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from storage.models import Category, Department
from storage.sql import as_datetime, fetch
from storage.stats import scope_ids, scope_sql
from storage.tracking import format_tracking_number

BOM = "\ufeff"
CHUNK = 5000
COLUMNS = (
    "tracking",
    "kind",
    "category",
    "category_name",
    "department",
    "department_name",
    "status",
    "created",
    "accepted",
    "signed",
    "due",
    "first_answered",
    "answered",
    "closed",
    "answered_on_time",
    "urgent",
    "extensions",
    "transfers",
    "reopens",
    "supporters",
    "repeat",
    "solved",
    "satisfaction",
)

_SELECT = (
    "SELECT c.id, c.tracking, c.kind, c.category_id, c.department_id, c.status, c.created_at,"
    " c.accepted_at, c.signed_at, c.due_at, c.first_answered_at, c.answered_at, c.closed_at,"
    " c.urgent, c.extension_count, c.transfer_count, c.reopen_count, c.supporters, c.repeat,"
    " r.solved, r.satisfaction"
    " FROM service_case c LEFT JOIN case_rating r ON r.case_id = c.id"
    " WHERE c.created_at >= ? AND c.created_at < ?"
)


async def count_cases(start: datetime, end: datetime, department_code: str | None) -> int:
    where, params = scope_sql(await scope_ids(department_code))
    rows = await fetch(
        "SELECT COUNT(*) AS n FROM service_case c"  # noqa: S608 - constants
        " WHERE c.created_at >= ? AND c.created_at < ?" + where,
        start,
        end,
        *params,
    )
    return int(rows[0]["n"])


async def case_rows(
    start: datetime, end: datetime, department_code: str | None
) -> AsyncIterator[list[dict[str, Any]]]:
    """The period's cases, a chunk at a time, oldest first."""
    where, params = scope_sql(await scope_ids(department_code))
    after: tuple[Any, int] | None = None
    while True:
        keyset, keys = "", []
        if after is not None:
            keyset = " AND (c.created_at > ? OR (c.created_at = ? AND c.id > ?))"
            keys = [after[0], after[0], after[1]]
        rows = await fetch(
            _SELECT + where + keyset + " ORDER BY c.created_at, c.id LIMIT ?",
            start,
            end,
            *params,
            *keys,
            CHUNK,
        )
        if not rows:
            return
        yield rows
        after = (rows[-1]["created_at"], rows[-1]["id"])
        if len(rows) < CHUNK:
            return


def _local(value: Any, zone: ZoneInfo) -> str:
    """ISO 8601 in the desk's time zone, with its offset: 2026-12-06T20:05+08:00."""
    if value is None:
        return ""
    return as_datetime(value).astimezone(zone).isoformat(timespec="minutes")


def _on_time(row: dict[str, Any]) -> str:
    answered = row["first_answered_at"] or row["answered_at"]
    if row["due_at"] is None or answered is None:
        return ""
    return "yes" if as_datetime(answered) <= as_datetime(row["due_at"]) else "no"


async def export_csv(
    start: datetime,
    end: datetime,
    department_code: str | None,
    *,
    language: str,
    zone: ZoneInfo,
    progress: Callable[[int], None] | None = None,
) -> bytes:
    """The CSV file's bytes; `progress` is told the number of rows written so far."""
    categories = {r["id"]: r for r in await Category.all().values("id", "code", "names")}
    departments = {r["id"]: r for r in await Department.all().values("id", "code", "names")}
    out = io.StringIO()
    out.write(BOM)
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    written = 0
    async for chunk in case_rows(start, end, department_code):
        for row in chunk:
            category = categories.get(row["category_id"]) or {"code": "", "names": {}}
            dept = departments.get(row["department_id"]) or {"code": "", "names": {}}
            writer.writerow(
                [
                    # As people write it: the dashes also keep a spreadsheet from reading a
                    # number such as 23456789E234 as 2.3E+242 (a 4-4-4 group of 2-9 and
                    # letters is never a number, a date or a formula).
                    format_tracking_number(row["tracking"]),
                    row["kind"],
                    category["code"],
                    _name(category, language),
                    dept["code"],
                    _name(dept, language),
                    row["status"],
                    *(
                        _local(row[k], zone)
                        for k in (
                            "created_at",
                            "accepted_at",
                            "signed_at",
                            "due_at",
                            "first_answered_at",
                            "answered_at",
                            "closed_at",
                        )
                    ),
                    _on_time(row),
                    int(bool(row["urgent"])),
                    row["extension_count"],
                    row["transfer_count"],
                    row["reopen_count"],
                    row["supporters"],
                    int(bool(row["repeat"])),
                    row["solved"] or "",
                    row["satisfaction"] or "",
                ]
            )
        written += len(chunk)
        if progress is not None:
            progress(written)
    return out.getvalue().encode("utf-8")


def _name(row: dict[str, Any], language: str) -> str:
    names = row.get("names") or {}
    return str(names.get(language) or names.get("en") or "")
