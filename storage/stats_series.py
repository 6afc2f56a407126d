"""The series behind the report charts: requests per local day and per category.

Days are counted by the hour in SQL (at most 24 rows a day come back) and folded into local
days here, so the desk's time zone needs no SQL of its own; a zone whose offset is not whole
hours (India's, Nepal's) is off by its odd minutes at midnight.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from tortoise.connection import get_connection

from storage.models import Category, Department
from storage.sql import fetch
from storage.stats import scope_ids, scope_sql


def _hour_bucket() -> str:
    if str(get_connection("default").capabilities.dialect) == "postgres":
        return "to_char(c.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24')"
    return "substr(c.created_at, 1, 13)"


async def volume_by_day(
    start: datetime, end: datetime, department_code: str | None, zone: ZoneInfo
) -> dict[date, int]:
    """Requests received per local day in [start, end) (days without any are absent)."""
    where, params = scope_sql(await scope_ids(department_code))
    bucket = _hour_bucket()
    sql = (
        f"SELECT {bucket} AS hour, COUNT(*) AS n FROM service_case c"  # noqa: S608 - constants
        f" WHERE c.created_at >= ? AND c.created_at < ?{where} GROUP BY {bucket}"
    )
    days: dict[date, int] = {}
    for row in await fetch(sql, start, end, *params):
        hour = datetime.strptime(str(row["hour"]), "%Y-%m-%d %H").replace(tzinfo=UTC)
        day = hour.astimezone(zone).date()
        days[day] = days.get(day, 0) + int(row["n"])
    return days


async def category_counts(
    start: datetime, end: datetime, department_code: str | None
) -> list[tuple[str, int]]:
    """(category code, requests) in [start, end), most first."""
    where, params = scope_sql(await scope_ids(department_code))
    sql = (
        "SELECT c.category_id AS k, COUNT(*) AS n FROM service_case c"  # noqa: S608 - constants
        f" WHERE c.created_at >= ? AND c.created_at < ?{where} GROUP BY c.category_id"
    )
    codes = dict(await Category.all().values_list("id", "code"))
    rows = [
        (str(codes.get(r["k"], "?")), int(r["n"])) for r in await fetch(sql, start, end, *params)
    ]
    return sorted(rows, key=lambda r: (-r[1], r[0]))


async def catalogue_names() -> tuple[dict[str, Any], dict[str, Any]]:
    """Names by code in every language: (departments, categories)."""
    departments = dict(await Department.all().values_list("code", "names"))
    categories = dict(await Category.all().values_list("code", "names"))
    return departments, categories


def name_in(names: dict[str, Any], code: str | None, language: str) -> str:
    """A department's or category's name in a language (the code if it has none)."""
    if code is None:
        return "—"
    found = names.get(code) or {}
    return str(found.get(language) or found.get("en") or code)
