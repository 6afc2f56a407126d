"""The case generator behind `minsheng bench --cases` writes cases the app could have written,
and the bench reports every figure.

Only consistency and the report's shape are checked here; the speed targets are read from the
benchmark's own output (a million cases), never asserted in a timed test.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.case_generator import build
from storage.case_views import OPEN_STATUSES
from storage.db import close_database, open_database
from storage.models import Case, CaseStatus
from storage.tracking import is_valid_tracking_number
from tests.harness import ROOT

N = 2000
# The figures are the benchmark's (10,000 lookups, 1,000 pages by default); here, that each
# figure is reported, from samples enough for a median and a 99th percentile.
LOOKUPS = 500
QUEUE_PAGES = 200
SEARCHES = 200
DRAFTS = 200


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import asyncio

    path = tmp_path_factory.mktemp("cases") / "cases.sqlite3"
    made = asyncio.run(build(path, N, quiet=True))
    assert made.cases == N
    return path


def rows(path: Path, sql: str) -> list[sqlite3.Row]:
    db = sqlite3.connect(path)
    db.row_factory = sqlite3.Row
    try:
        return db.execute(sql).fetchall()
    finally:
        db.close()


def at(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def test_n_cases_with_valid_unique_tracking_numbers(generated: Path) -> None:
    numbers = [row[0] for row in rows(generated, "SELECT tracking FROM service_case")]
    assert len(numbers) == N
    assert len(set(numbers)) == N
    assert all(is_valid_tracking_number(number) for number in numbers)


def test_timestamps_fit_each_status(generated: Path) -> None:
    now = datetime.now(UTC)
    statuses = set()
    for row in rows(generated, "SELECT * FROM service_case"):
        status = CaseStatus(row["status"])
        statuses.add(status)
        created, accepted = at(row["created_at"]), at(row["accepted_at"])
        signed, answered = at(row["signed_at"]), at(row["answered_at"])
        first, closed = at(row["first_answered_at"]), at(row["closed_at"])
        assert created is not None
        assert created <= now
        assert row["updated_at"] >= row["created_at"]
        assert row["proposed_department_id"] is not None
        if status is CaseStatus.SUBMITTED:
            assert accepted is None
            assert row["department_id"] is None
        if status in {CaseStatus.REJECTED, CaseStatus.MERGED}:
            assert closed is not None
            assert answered is None
            assert closed >= created
            assert (row["duplicate_of_id"] is not None) == (status is CaseStatus.MERGED)
            if row["duplicate_of_id"] is not None:
                assert row["duplicate_of_id"] < row["id"]
            continue
        if status is not CaseStatus.SUBMITTED:
            assert accepted is not None
            assert created <= accepted <= now
            assert row["department_id"] is not None
            assert row["due_at"] > row["accepted_at"]
            assert row["sign_due_at"] > row["accepted_at"]
        if status in {CaseStatus.IN_PROGRESS, CaseStatus.ANSWERED, CaseStatus.CLOSED}:
            assert signed is not None
            assert accepted is not None
            assert signed >= accepted
        if status is CaseStatus.AWAITING_CITIZEN:
            assert row["paused_at"] is not None
            assert row["paused_at"] >= row["signed_at"]
        else:
            assert row["paused_at"] is None
        if status in {CaseStatus.ANSWERED, CaseStatus.CLOSED}:
            assert answered is not None
            assert signed is not None
            assert answered >= signed
            assert first == answered
        else:
            assert answered is None
            assert first is None
        if status is CaseStatus.CLOSED:
            assert closed is not None
            assert answered is not None
            assert closed >= answered
        elif status in OPEN_STATUSES:
            assert closed is None
    # A desk's mix: most cases closed, some of every open kind, a few rejected or merged.
    counts = {
        row[0]: row[1]
        for row in rows(generated, "SELECT status, count(*) FROM service_case GROUP BY status")
    }
    assert counts["closed"] > 0.8 * N
    assert {"in_progress", "answered", "rejected", "merged"} <= set(counts)
    assert statuses - {CaseStatus.CLOSED}


def test_a_share_of_answered_cases_is_published_and_searchable(generated: Path) -> None:
    published = rows(
        generated,
        "SELECT c.id, c.status, c.answered_at, c.published_at, c.public_title, c.public_text"
        " FROM service_case c WHERE c.publish_consent AND c.published_at IS NOT NULL",
    )
    assert 0.05 * N < len(published) < 0.2 * N
    for row in published:
        assert row["status"] in {"answered", "closed"}
        assert row["published_at"] > row["answered_at"]
        assert row["public_title"]
        assert row["public_text"]
    indexed = rows(generated, "SELECT rowid FROM board_search")
    assert {row["id"] for row in published} <= {row[0] for row in indexed}


def test_ratings_only_for_answered_cases_after_the_answer(generated: Path) -> None:
    rated = rows(
        generated,
        """SELECT c.status, c.answered_at, c.closed_at, r.rated_at, r.solved,
        r.satisfaction FROM case_rating r JOIN service_case c ON c.id = r.case_id""",
    )
    assert 0.6 * N < len(rated) < N
    for row in rated:
        assert row["status"] in {"answered", "closed"}
        assert row["rated_at"] >= row["answered_at"]
        assert row["solved"] in {"solved", "partly", "not_solved"}
        assert row["satisfaction"] in {"satisfied", "basic", "unsatisfied"}


def test_events_tell_each_life_in_order(generated: Path) -> None:
    events: dict[int, list[sqlite3.Row]] = {}
    for row in rows(generated, "SELECT * FROM case_event ORDER BY id"):
        events.setdefault(row["case_id"], []).append(row)
    cases = {row["id"]: row for row in rows(generated, "SELECT * FROM service_case")}
    assert set(events) == set(cases)
    for case_id, trail in events.items():
        case = cases[case_id]
        kinds = [event["kind"] for event in trail]
        assert kinds[0] == "submitted"
        assert trail[0]["created_at"] == case["created_at"]
        assert [e["created_at"] for e in trail] == sorted(e["created_at"] for e in trail)
        assert ("accepted" in kinds) == (case["accepted_at"] is not None)
        assert ("answered" in kinds) == (case["answered_at"] is not None)
        assert ("closed" in kinds) == (case["status"] == "closed")
        json.loads(trail[0]["payload"])


async def test_the_orm_reads_generated_rows_as_its_own(generated: Path) -> None:
    """Datetimes, enums and JSON come back through Tortoise as the app wrote them."""
    await open_database(f"sqlite://{generated}")
    try:
        case = await Case.filter(status=CaseStatus.CLOSED).first()
        assert case is not None
        assert case.created_at.tzinfo is not None
        assert case.closed_at is not None
        assert case.photos == []
        assert case.answers == {}
        assert await Case.filter(created_at__lt=datetime.now(UTC)).count() == N
    finally:
        await close_database()


def bench(*options: str) -> str:
    return subprocess.run(
        [sys.executable, "-m", "bot", "--log-level", "WARNING", "bench", *options],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    ).stdout


@pytest.mark.slow
def test_bench_reports_every_figure(tmp_path: Path) -> None:
    database = str(tmp_path / "bench.sqlite3")
    samples = ["--lookups", str(LOOKUPS), "--queue-pages", str(QUEUE_PAGES)]
    samples += ["--searches", str(SEARCHES), "--db", database]
    report = json.loads(bench("--cases", str(N), "--drafts", str(DRAFTS), "--json", *samples))
    assert report["cases"] == N
    assert report["database_mb"] > 0
    assert report["generation"]["cases_per_second"] > 0
    assert report["generation"]["peak_rss_mb"] > 0
    stats = report["stats"]
    assert stats["received"] > 0
    assert stats["all_ms"] > 0
    assert stats["department_ms"] > 0
    assert stats["department"]
    lookup, queue = report["lookup"], report["queue"]
    assert lookup["lookups"] > 0.9 * LOOKUPS
    assert 0 < lookup["p50_ms"] <= lookup["p99_ms"]
    assert queue["requests"] == QUEUE_PAGES
    assert 0 < queue["p50_ms"] <= queue["p99_ms"]
    assert set(queue["views"]) == {"now", "new", "department", "overdue"}
    board = report["board"]
    assert board["published"] > 0.05 * N
    assert board["searches"] == SEARCHES
    assert board["with_results"] > 0
    assert 0 < board["p50_ms"] <= board["p99_ms"]
    # The running bot on those cases with open drafts: every idle draft was reminded (the
    # bench waits for each reminder), the traffic was answered, and its peak RSS read.
    bot = report["bot"]
    assert bot["drafts"] == DRAFTS
    assert 0 < bot["reminded"] < DRAFTS
    assert bot["status_lookups"] > 0
    assert bot["drafts_continued"] > 0
    assert bot["peak_memory_mb"] >= bot["memory_after_reminders_mb"] > 0
    assert set(report["targets_met"]) == {"stats", "lookup", "queue", "board", "bot_memory"}
    goals = [row for row in report["figures"] if row["met"] is not None]
    assert len(goals) == 6  # two /stats, lookup, /queue, board, the bot's memory
    assert all(row["goal"] != "-" and isinstance(row["met"], bool) for row in goals)
    # The same figures as a table, on the same cases (reused, not generated again).
    table = bench("--cases", str(N), *samples)
    assert "reusing" in table
    for name in ("/stats", "status lookup", "/queue page", "board search"):
        line = next(line for line in table.splitlines() if line.startswith(name))
        assert line.rstrip().endswith(("met", "not met"))
