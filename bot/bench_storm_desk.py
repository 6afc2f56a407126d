"""The storm bench's desk: citizens, each with an answer a week and a day old that nobody
rated, so that the bot's rating sweep closes them all at start-up and sends every citizen the
"case closed" notice at once (bot.bench_storm)."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.bench_intake import CATEGORY
from storage.catalog import SAMPLE_CATALOG, catalog_loaded, load_catalog
from storage.db import close_database, open_database
from storage.models import Case, CaseKind, CaseStatus, Category, Citizen
from storage.tracking import new_tracking_number

FIRST_STORM_CITIZEN = 1_000_000
LANGUAGES = ("zh_Hans", "zh_Hant", "en", "ru")


async def build(database: Path, citizens: int) -> None:
    """Migrate, load the catalogue, and add `citizens` citizens, each with an answer a week
    and a day old that nobody rated (bulk inserts: one transaction)."""
    url = f"sqlite://{database}"
    await open_database(url)
    try:
        if not await catalog_loaded():
            await load_catalog(SAMPLE_CATALOG)
        category = await Category.get(code=CATEGORY)
        now = datetime.now(UTC)
        answered = now - timedelta(days=8)
        ids = range(FIRST_STORM_CITIZEN, FIRST_STORM_CITIZEN + citizens)
        numbers: set[str] = set()
        while len(numbers) < citizens:
            numbers.add(new_tracking_number())
        await Citizen.bulk_create(
            [
                Citizen(id=i, language=LANGUAGES[i % 4], language_chosen=True, first_name="Li")
                for i in ids
            ],
            batch_size=2000,
        )
        await Case.bulk_create(
            [
                Case(
                    tracking=tracking,
                    citizen_id=i,
                    kind=CaseKind.COMPLAINT,
                    category_id=category.id,
                    department_id=category.department_id,  # type: ignore[attr-defined]
                    status=CaseStatus.ANSWERED,
                    text="No heating in the whole block since the pipe burst.",
                    created_at=answered - timedelta(days=2),
                    accepted_at=answered - timedelta(days=2),
                    answered_at=answered,
                    first_answered_at=answered,
                    updated_at=answered,
                )
                for i, tracking in zip(ids, sorted(numbers), strict=True)
            ],
            batch_size=2000,
        )
    finally:
        await close_database()


def category_ids(database: Path) -> dict[str, int]:
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as db:
        return dict(db.execute("SELECT code, id FROM category"))
