"""What differs between SQLite and PostgreSQL, checked on whichever database this pass runs on
(the suite runs once on SQLite, and once more on PostgreSQL with MINSHENG_TEST_DATABASE_URL):
plain SQL with a literal `?`, aware datetimes, JSON columns, case-insensitive search in every
language of the desk. The /stats figures are tests/test_stats.py's, on both passes too.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from tortoise.connection import get_connection

from storage.case_search import CaseFilter, search_cases
from storage.models import Case
from storage.sql import as_datetime, as_json, dialect_sql, fetch
from tests.staff_fixtures import ADMIN, NOW, file_case
from tests.staff_fixtures import db as db


def dialect() -> str:
    return str(get_connection("default").capabilities.dialect)


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("SELECT a FROM t WHERE a = ? AND b = ?", "SELECT a FROM t WHERE a = $1 AND b = $2"),
        ("SELECT '?' FROM t WHERE a = ?", "SELECT '?' FROM t WHERE a = $1"),
        ("SELECT 'it''s ?' WHERE a = ?", "SELECT 'it''s ?' WHERE a = $1"),
        ('SELECT "odd?name" FROM t WHERE a = ?', 'SELECT "odd?name" FROM t WHERE a = $1'),
        ("SELECT a -- is it?\nFROM t WHERE a = ?", "SELECT a -- is it?\nFROM t WHERE a = $1"),
        ("SELECT /* ? */ a FROM t WHERE a = ?", "SELECT /* ? */ a FROM t WHERE a = $1"),
    ],
)
def test_placeholders_for_postgres_leave_literals_alone(sql: str, expected: str) -> None:
    assert dialect_sql(sql, "postgres") == expected
    assert dialect_sql(sql, "sqlite") == sql


async def test_a_literal_question_mark_in_plain_sql(db: None) -> None:
    tracking = await file_case()
    rows = await fetch(
        "SELECT '?' AS mark, tracking FROM service_case WHERE tracking = ? AND text != '?'",
        tracking,
    )
    assert rows == [{"mark": "?", "tracking": tracking}]


async def test_datetimes_come_back_aware_and_equal(db: None) -> None:
    tracking = await file_case()
    moment = datetime(2025, 3, 30, 1, 30, 15, 250_000, tzinfo=UTC)  # a DST night in Europe
    await Case.filter(tracking=tracking).update(updated_at=moment)
    case = await Case.get(tracking=tracking)
    assert case.updated_at == moment
    assert case.updated_at.tzinfo is not None
    [row] = await fetch("SELECT updated_at FROM service_case WHERE tracking = ?", tracking)
    assert as_datetime(row["updated_at"]) == moment
    # A datetime parameter compares as the same instant, whatever zone it was given in.
    later = moment.astimezone(NOW.tzinfo) + timedelta(seconds=1)
    found = await fetch("SELECT count(*) AS n FROM service_case WHERE updated_at < ?", later)
    assert found == [{"n": 1}]
    if dialect() == "postgres":
        naive = await fetch(
            "SELECT table_name, column_name FROM information_schema.columns"
            " WHERE table_schema = 'public' AND data_type = 'timestamp without time zone'"
        )
        assert naive == []  # timestamptz everywhere


async def test_json_columns_keep_their_values(db: None) -> None:
    tracking = await file_case()
    answers = {"楼层": 12, "since": "2025-01-06", "ok": True, "rooms": ["厨房", "Спальня"]}
    await Case.filter(tracking=tracking).update(answers=answers, photos=["p-1", "p-2"])
    case = await Case.get(tracking=tracking)
    assert (case.answers, case.photos) == (answers, ["p-1", "p-2"])
    [row] = await fetch("SELECT answers, photos FROM service_case WHERE tracking = ?", tracking)
    assert (as_json(row["answers"]), as_json(row["photos"])) == (answers, ["p-1", "p-2"])


@pytest.mark.parametrize(
    ("stored", "typed"),
    [
        ("Radiators COLD in building 3", "cold in BUILDING"),
        ("Прорыв трубы на улице Ленина", "ПРОРЫВ ТРУБЫ"),
        ("Ölheizung defekt", "ölheizung"),
        ("小区供暖不足", "供暖"),
    ],
)
async def test_search_ignores_case_in_every_script(db: None, stored: str, typed: str) -> None:
    tracking = await file_case()
    await Case.filter(tracking=tracking).update(text=stored)
    other = await file_case()
    await Case.filter(tracking=other).update(text="Something else entirely")
    found = await search_cases(ADMIN, replace(CaseFilter(), text=typed), 1, now=NOW)
    assert [row.tracking for row in found.rows] == [tracking]
