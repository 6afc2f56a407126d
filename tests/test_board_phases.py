"""The board's search finds what reading every published case finds: the same cases, newest
first, page after page, whichever phase answers (storage.board_search: the newest published
cases the filters allow first, then everywhere, or a small department's cases alone). On a
generated desk with more published cases than the first phase reads, in one department too,
on SQLite, and on PostgreSQL on its pass.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from bot.bench_board import WORDS
from bot.case_generator import build
from storage.board import PAGE_SIZE, board_page
from storage.board_search import NEWEST, _variants, search_words
from storage.models import Category, Department
from storage.publication import published_cases
from tests.databases import generated_desk

N = 12_000
PAGES = (1, 2, 4)


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Generated cases, nine in ten of the published ones moved into one department, so that
    it holds more than the first phase reads and the others fewer."""
    path = tmp_path_factory.mktemp("board") / "desk.sqlite3"
    asyncio.run(build(path, N, quiet=True))
    with contextlib.closing(sqlite3.connect(path)) as db, db:
        db.execute(
            "UPDATE service_case SET department_id = (SELECT id FROM department"
            " WHERE code = 'heating-company') WHERE published_at IS NOT NULL AND id % 10 > 0"
        )
    return path


def _words(case: dict[str, Any]) -> str:
    parts = (case["public_title"], case["public_text"], case["public_note"])
    return " ".join(part or "" for part in parts).lower() + " "


def expected(
    cases: list[dict[str, Any]], text: str, category: int | None, department: int | None
) -> list[str]:
    """Every published case the filters allow that holds each word, in either script; newest
    first."""
    words = [_variants(word) for word in search_words(text)]
    found = [
        case
        for case in cases
        if category in (None, case["category_id"])
        and department in (None, case["department_id"])
        and all(any(form in _words(case) for form in forms) for forms in words)
    ]
    return [case["tracking"] for case in sorted(found, key=lambda case: -case["id"])]


async def test_every_search_finds_what_reading_each_case_finds(desk: Path, tmp_path: Path) -> None:
    async with generated_desk(desk, tmp_path):
        await check_searches()


async def test_the_same_on_postgresql(desk: Path, tmp_path: Path, postgres_url: str) -> None:
    async with generated_desk(desk, tmp_path, postgres_url):
        await check_searches()


async def check_searches() -> None:
    columns = ("id", "tracking", "public_title", "public_text", "public_note")
    cases = await published_cases().values(*columns, "category_id", "department_id")
    by_department = Counter(case["department_id"] for case in cases)
    big, _ = by_department.most_common(1)[0]
    small = by_department.most_common()[1][0]
    assert by_department[big] > NEWEST > len(cases) - by_department[big]
    category = Counter(case["category_id"] for case in cases).most_common(1)[0][0]
    codes = dict(await Department.all().values_list("id", "code"))
    categories = dict(await Category.all().values_list("id", "code"))
    filters = [(None, None), (None, big), (None, small), (category, None), (category, big)]
    full_pages = 0
    for text in WORDS:
        for category_id, department_id in filters:
            want = expected(cases, text, category_id, department_id)
            for number in PAGES:
                page = await board_page(
                    text,
                    number,
                    category=categories.get(category_id) if category_id else None,
                    department=codes.get(department_id) if department_id else None,
                )
                start = (number - 1) * PAGE_SIZE
                shown = [row.tracking for row in page.rows]
                assert shown == want[start : start + PAGE_SIZE], (text, category_id, department_id)
                assert page.has_next == (len(want) > start + PAGE_SIZE)
                full_pages += len(shown) == PAGE_SIZE
    assert full_pages > 50  # common words fill pages, in the big department too
