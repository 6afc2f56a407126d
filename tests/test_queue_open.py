"""The /queue views over every open case (storage.queue_open, on the partial indexes of
migration 0018) list what the plain rule lists: the same cases in the same order, page after
page, with the same totals, on a generated desk with many open cases (SQLite, and PostgreSQL
on its pass, the desk moved there as `minsheng bench --cases --database` moves it).
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import sqlite3
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.case_generator import build
from bot.case_generator_rows import ADMIN_ID, FIRST_STAFF
from bot.sandbox import Sandbox
from storage.case_views import OPEN_STATUSES
from storage.models import Case, CaseStatus
from storage.queue import COUNT_CAP, QueueFilter, queue_page
from storage.queue_open import OPEN, WAITING
from storage.sql import execute
from storage.tracking import format_tracking_number
from tests.databases import Database, generated_desk
from tests.following import buttons
from tests.staff_desk import ADMIN, CITIZEN, staff_desk

MIGRATION = importlib.import_module("storage.migrations.0018_open_cases_index")
N = 2000
VIEWS = (QueueFilter.NOW, QueueFilter.OPEN, QueueFilter.DEPARTMENT, QueueFilter.OVERDUE)
REOPENED = ("submitted", "accepted", "in_progress", "awaiting_citizen", "answered")


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Generated cases, a seventh of the closed ones set back to an open status: due in the
    past, in the future or never, some to route by hand (and some closed ones flagged so), some
    new ones in no department yet."""
    path = tmp_path_factory.mktemp("queue") / "desk.sqlite3"
    asyncio.run(build(path, N, quiet=True))
    later = (datetime.now(UTC) + timedelta(days=10)).isoformat(sep=" ")
    with contextlib.closing(sqlite3.connect(path)) as db, db:
        picked = db.execute("SELECT id FROM service_case WHERE status = 'closed' AND id % 7 = 0")
        for (case_id,) in picked.fetchall():
            status = REOPENED[case_id // 7 % len(REOPENED)]
            due = "due_at" if case_id % 3 == 0 else "NULL" if case_id % 3 == 1 else "?"
            db.execute(
                f"UPDATE service_case SET status = ?, closed_at = NULL, due_at = {due},"  # noqa: S608
                " route_by_hand = ? WHERE id = ?",
                (status, *([later] if due == "?" else []), case_id % 5 == 0, case_id),
            )
        # New cases not routed yet: proposed to a department, in none.
        db.execute(
            "UPDATE service_case SET proposed_department_id = department_id, department_id = NULL"
            " WHERE status = 'submitted' AND closed_at IS NULL AND id % 2 = 0"
        )
        db.execute(
            "UPDATE service_case SET route_by_hand = 1 WHERE status = 'closed' AND id % 9 = 0"
        )
    return path


@pytest.fixture(scope="module")
def crowded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Generated cases, every one open and overdue: more than the views count."""
    path = tmp_path_factory.mktemp("crowded") / "desk.sqlite3"
    asyncio.run(build(path, N, quiet=True))
    with contextlib.closing(sqlite3.connect(path)) as db, db:
        db.execute(
            "UPDATE service_case SET status = 'in_progress', closed_at = NULL,"
            " due_at = coalesce(due_at, created_at) WHERE status NOT IN ('submitted', 'accepted')"
        )
    return path


def expected(
    cases: list[dict[str, Any]], view: QueueFilter, now: datetime, department: int | None = None
) -> list[str]:
    """The rule each view states, case by case; with `department`, a handler's "now" there."""
    chosen = []
    for case in cases:
        late = case["due_at"] is not None and case["due_at"] < now
        if CaseStatus(case["status"]) not in OPEN_STATUSES:
            continue
        if department is not None:
            if case["department_id"] == department:
                chosen.append((0 if late else 1, case["id"], case["tracking"]))
        elif view is QueueFilter.NOW:
            waiting = case["status"] == CaseStatus.SUBMITTED or case["route_by_hand"]
            if late or waiting:
                chosen.append((0 if late else 1, case["id"], case["tracking"]))
        elif view is QueueFilter.OVERDUE:
            if late:
                chosen.append((0, case["id"], case["tracking"]))
        elif view is QueueFilter.OPEN or case["department_id"] is not None:
            chosen.append((0, case["id"], case["tracking"]))
    return [tracking for _, _, tracking in sorted(chosen)]


def test_the_queries_hold_the_indexes_conditions_as_written() -> None:
    assert MIGRATION.OPEN == OPEN
    assert MIGRATION.WAITING == WAITING


async def test_every_open_case_view_lists_what_its_rule_lists(desk: Path, tmp_path: Path) -> None:
    async with generated_desk(desk, tmp_path):
        await check_views()


async def test_the_same_on_postgresql(desk: Path, tmp_path: Path, postgres_url: str) -> None:
    async with generated_desk(desk, tmp_path, postgres_url):
        await check_views()


async def check_views() -> None:
    """Each view, every page and one past the last, against its rule: an admin's views, and
    the "now" of two departments' handlers."""
    now = datetime.now(UTC)
    columns = ("id", "tracking", "status", "due_at", "route_by_hand", "department_id")
    cases = await Case.all().values(*columns)
    departments = Counter(case["department_id"] for case in cases if case["department_id"])
    seen = [(ADMIN_ID, view, expected(cases, view, now)) for view in VIEWS] + [
        (FIRST_STAFF + d, QueueFilter.NOW, expected(cases, QueueFilter.NOW, now, d))
        for d, _ in departments.most_common()[::5]
    ]
    for user, view, want in seen:
        first = await queue_page(user, view, 1, now=now)
        assert first.total == len(want), (user, view)
        assert first.pages == max(1, -(-len(want) // 10))
        shown = []
        for number in range(1, first.pages + 2):  # and one past the last: the last again
            page = await queue_page(user, view, number, now=now)
            if number <= first.pages:
                shown += [line.tracking for line in page.lines]
            else:
                assert page.page == first.pages
        assert shown == want, (user, view)
    kinds = {view: len(expected(cases, view, now)) for view in VIEWS}
    # The desk holds what the walk must get right: overdue cases, then the others of "now".
    assert kinds[QueueFilter.OVERDUE] > 20
    assert kinds[QueueFilter.NOW] > kinds[QueueFilter.OVERDUE] + 20
    assert kinds[QueueFilter.OPEN] > kinds[QueueFilter.DEPARTMENT]


async def test_a_crowded_view_is_counted_up_to_a_cap(crowded: Path, tmp_path: Path) -> None:
    """Past COUNT_CAP cases a page says "more than", and each page still shows its own ten:
    the last counted page, the one after it, and a page asked for far beyond the cap."""
    async with generated_desk(crowded, tmp_path):
        await check_crowded()


async def test_the_cap_on_postgresql(crowded: Path, tmp_path: Path, postgres_url: str) -> None:
    async with generated_desk(crowded, tmp_path, postgres_url):
        await check_crowded()


async def check_crowded() -> None:
    now = datetime.now(UTC)
    columns = ("id", "tracking", "status", "due_at", "route_by_hand", "department_id")
    cases = await Case.all().values(*columns)
    for view in VIEWS:
        want = expected(cases, view, now)
        assert len(want) > 1500, view
        for number, counted in ((1, COUNT_CAP), (100, COUNT_CAP), (101, 1010), (150, 1500)):
            page = await queue_page(ADMIN_ID, view, number, now=now)
            assert (page.total, page.more, page.page) == (counted, True, number), view
            assert page.pages == counted // 10 + 1
            shown = [line.tracking for line in page.lines]
            assert shown == want[(number - 1) * 10 : number * 10], (view, number)
        last = -(-len(want) // 10)
        page = await queue_page(ADMIN_ID, view, 9999, now=now)
        assert (page.total, page.more, page.pages, page.page) == (len(want), False, last, last)
        assert [line.tracking for line in page.lines] == want[(last - 1) * 10 :]


async def test_a_crowded_queue_says_more_than_it_counted(
    sandbox: Sandbox, db_path: Database
) -> None:
    """Through the bot: past the cap the head says "more than", Next still leads on, and a
    page past the cap is counted to it."""
    async with staff_desk(sandbox, db_path) as d:
        case = await d.file_case(CITIZEN)
        columns = ", ".join(c for c in Case._meta.db_fields if c not in ("id", "tracking"))
        await execute(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000)"  # noqa: S608
            f" INSERT INTO service_case ({columns}, tracking) SELECT {columns},"
            " substr(tracking, 1, 8) || (1000 + i) FROM service_case, n WHERE tracking = ?",
            case.tracking,
        )
        first = await d.say(ADMIN, "/queue open", 1)
        assert (
            first["text"].split("\n")[0] == "Open requests in your reach: more than 1000, page 1"
        )
        assert first["text"].split("\n")[1].startswith(format_tracking_number(case.tracking))
        assert buttons(first) == [("Next ›", "sq:open:2")]
        last = await d.say(ADMIN, "/queue open 101", 2)
        assert last["text"].split("\n")[0] == "Open requests in your reach: 1001, page 101 of 101"
        assert buttons(last) == [("‹ Prev", "sq:open:100")]
