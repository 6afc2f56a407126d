"""The weekly digest (民声摘报): last week at the desk, as plain facts for the staff chat.

Volume and its trend against the week before, the top categories, rising topics (see
storage.topics: this week's texts against the four weeks before), where overdue cases pile up
now, where citizens were unsatisfied (less the ratings a granted dispute took out), the disputes
filed, granted and refused per department, the department ranking of storage.stats, and the
knowledge-base articles past their review-by date (a department's digest: its own).

`send_weekly_digest` is the sweep: once the configured weekday and local time have come, the
past ISO week's digest is queued for the staff chat with a SweepMark "digest:YYYY-Www" in the
same transaction, so it is sent once per week whether the sweep runs twice, the bot restarts,
or it was down at the time (then it goes at the first sweep after). A week in which nothing was
received sends nothing.
"""

from __future__ import annotations

import asyncio
import re
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from tortoise.transactions import in_transaction

from storage.disputes import GRANTED_SQL, dispute_counts
from storage.knowledge import articles_to_review
from storage.models import Category, Department, SweepMark
from storage.notice_queue import notify
from storage.periods import Period, week_of
from storage.sql import as_datetime, fetch
from storage.stats import OPEN_UNANSWERED, compute_stats, scope_ids, scope_sql
from storage.topics import rising_topics

WEEKDAYS = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")
_SCHEDULE = re.compile(r"^(MON|TUE|WED|THU|FRI|SAT|SUN)\s+([01]?\d|2[0-3]):([0-5]\d)$")
BASELINE_WEEKS = 4
TOP = 5
RANKED = 10


def parse_schedule(text: str) -> tuple[int, time] | None:
    """A schedule like "MON 09:00" as (weekday 0-6, local time); None for "off".

    Raises ValueError for anything else.
    """
    if text.strip().lower() == "off":
        return None
    found = _SCHEDULE.match(text.strip().upper())
    if found is None:
        raise ValueError('expected a weekday and a time such as "MON 09:00", or "off"')
    return WEEKDAYS.index(found.group(1)), time(int(found.group(2)), int(found.group(3)))


def due_week(now: datetime, zone: ZoneInfo, weekday: int, at: time) -> Period:
    """The week whose digest is due at `now`: the week before the latest scheduled moment."""
    local = now.astimezone(zone)
    monday = local.date() - timedelta(days=local.weekday())
    slot = datetime.combine(monday + timedelta(days=weekday), at, tzinfo=zone)
    if slot > local:
        slot -= timedelta(days=7)
    return week_of(slot.date() - timedelta(days=7), zone)


def week_key(period: Period) -> str:
    year, week, _ = period.first_day.isocalendar()
    return f"digest:{year}-W{week:02d}"


def last_full_week(now: datetime, zone: ZoneInfo) -> Period:
    return week_of(now.astimezone(zone).date() - timedelta(days=7), zone)


async def _grouped(sql: str, *params: Any) -> list[tuple[int | None, int]]:
    return [(row["k"], int(row["n"])) for row in await fetch(sql, *params)]


async def digest_facts(
    period: Period, *, now: datetime, zone: ZoneInfo, department_code: str | None = None
) -> dict[str, Any]:
    """The digest of a period as JSON facts (codes, counts and rates; no text of its own)."""
    where, scope = scope_sql(await scope_ids(department_code))
    in_period = "c.created_at >= ? AND c.created_at < ?" + where
    previous = week_of(period.first_day - timedelta(days=7), zone)
    stats = await compute_stats(period.start, period.end, department_code, now=now)
    before = await compute_stats(previous.start, previous.end, department_code, now=now)
    by_category = (
        f"SELECT c.category_id AS k, COUNT(*) AS n FROM service_case c WHERE {in_period}"  # noqa: S608
        " GROUP BY c.category_id"
    )
    categories = await _grouped(
        f"{by_category} ORDER BY n DESC, k LIMIT ?", period.start, period.end, *scope, TOP
    )
    earlier = dict(await _grouped(by_category, previous.start, previous.end, *scope))
    marks = ", ".join("?" for _ in OPEN_UNANSWERED)
    hot: dict[str, list[tuple[int | None, int]]] = {}
    for name, column in (("departments", "c.department_id"), ("categories", "c.category_id")):
        overdue = (
            f"SELECT {column} AS k, COUNT(*) AS n FROM service_case c"  # noqa: S608
            f" WHERE c.status IN ({marks}) AND c.due_at < ?{where}"
            f" GROUP BY {column} ORDER BY n DESC, k LIMIT 3"
        )
        hot[f"overdue_{name}"] = await _grouped(overdue, *OPEN_UNANSWERED, now, *scope)
        unsatisfied = (
            f"SELECT {column} AS k, COUNT(*) AS n FROM service_case c JOIN case_rating r"  # noqa: S608
            f" ON r.case_id = c.id WHERE {in_period} AND r.satisfaction = 'unsatisfied'"
            f" AND NOT {GRANTED_SQL}"
            f" GROUP BY {column} ORDER BY n DESC, k LIMIT 3"
        )
        hot[f"unsatisfied_{name}"] = await _grouped(unsatisfied, period.start, period.end, *scope)
    topics = await _topics(period, where, scope)
    today = now.astimezone(zone).date()  # articles past their review-by date, as of now
    to_review = await articles_to_review(today, department_code=department_code)
    dept_codes = dict(await Department.all().values_list("id", "code"))
    cat_codes = dict(await Category.all().values_list("id", "code"))

    def named(rows: list[tuple[int | None, int]], codes: dict[int, str]) -> list[list[Any]]:
        return [[codes.get(k) if k is not None else None, n] for k, n in rows]

    return {
        "first_day": period.first_day.isoformat(),
        "last_day": period.last_day.isoformat(),
        "week": week_key(period).removeprefix("digest:"),
        "department": department_code,
        "received": stats.total.received,
        "previous": before.total.received,
        "categories": [
            [cat_codes.get(k) if k is not None else None, n, earlier.get(k, 0)]
            for k, n in categories
        ],
        "topics": [[t.term, t.count, t.baseline] for t in topics],
        **{
            key: named(rows, dept_codes if key.endswith("departments") else cat_codes)
            for key, rows in hot.items()
        },
        "ranking": [
            [
                d.code,
                d.rank,
                round(d.figures.score or 0.0, 1),
                d.figures.received,
                d.figures.on_time_completion_rate,
                d.figures.satisfaction_rate,
            ]
            for d in stats.departments
            if d.rank is not None
        ][:RANKED],
        "disputes": await dispute_counts(period.start, period.end, where, scope),
        "to_review": [
            [view.code, view.review_by.isoformat(), view.department_code] for view in to_review
        ],
    }


async def _topics(period: Period, where: str, scope: list[int]) -> list[Any]:
    since = period.start - timedelta(days=7 * BASELINE_WEEKS)
    sql = (
        "SELECT c.id, c.text, c.created_at FROM service_case c"  # noqa: S608 - constants
        f" WHERE c.created_at >= ? AND c.created_at < ?{where}"
    )
    rows = await fetch(sql, since, period.end, *scope)
    current: list[tuple[int, str]] = []
    weeks: list[list[str]] = [[] for _ in range(BASELINE_WEEKS)]
    for row in rows:
        created = as_datetime(row["created_at"])
        if created >= period.start:
            current.append((int(row["id"]), str(row["text"])))
        else:
            weeks[min(BASELINE_WEEKS - 1, (period.start - created).days // 7)].append(row["text"])
    # Counting terms is CPU work: off the event loop, so the bot keeps answering meanwhile.
    return await asyncio.to_thread(rising_topics, current, weeks)


async def send_weekly_digest(
    now: datetime, *, staff_chat_id: int | None, zone: ZoneInfo, schedule: str
) -> int:
    """The sweep: queue the past week's digest for the staff chat once it is due; 1 if sent."""
    when = parse_schedule(schedule)
    if staff_chat_id is None or when is None:
        return 0
    period = due_week(now, zone, *when)
    key = week_key(period)
    if await SweepMark.exists(key=key):
        return 0
    async with in_transaction():
        if await SweepMark.exists(key=key):
            return 0
        count = await fetch(
            "SELECT COUNT(*) AS n FROM service_case c"
            " WHERE c.created_at >= ? AND c.created_at < ?",
            period.start,
            period.end,
        )
        if not int(count[0]["n"]):
            return 0
        facts = await digest_facts(period, now=now, zone=zone)
        await notify(staff_chat_id, "weekly_digest", facts, now=now, dedupe_key=key)
        await SweepMark.create(key=key, done_at=now)
    return 1
