"""The public board's reads: published cases newest first, a search that works in Chinese, one
case as the public reads it, and the latest for the feed.

Every read starts from storage.publication.published_cases(): a case that is not published does
not exist here (BoardCaseNotFound, whatever the reason). The public reads the public title,
text and note, the category and department, the dates, the citizen's satisfaction (nothing else
of the rating) and the photos staff ticked; never the citizen's words, name, place or contact.

Search: storage.board_search. Newest first means by case number (newest filed first): the
search index's order, so a page of a common word reads twenty matches, not all of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from storage.board_search import search_phases, search_words
from storage.models import Category, Department, Rating
from storage.publication import published_cases
from storage.tracking import canonical_or_none

PAGE_SIZE = 20
MAX_PAGE = 50  # past 1,000 results: narrow the search
FEED_SIZE = 50
EXCERPT = 160
_ROW = (
    "id",
    "tracking",
    "public_title",
    "public_text",
    "category_id",
    "department_id",
    "created_at",
    "first_answered_at",
    "published_at",
)


class BoardCaseNotFound(Exception):
    """No published case has this number (it may not exist, or not be public: the same)."""


@dataclass(frozen=True)
class BoardRow:
    tracking: str
    title: str
    excerpt: str
    category_code: str | None
    department_code: str | None
    created_at: datetime
    answered_at: datetime | None
    published_at: datetime | None


@dataclass(frozen=True)
class BoardPage:
    rows: tuple[BoardRow, ...]
    page: int
    has_next: bool


@dataclass(frozen=True)
class BoardCase:
    tracking: str
    title: str
    text: str
    note: str | None
    category_code: str | None
    department_code: str | None
    created_at: datetime
    answered_at: datetime | None
    published_at: datetime | None
    satisfaction: str | None  # satisfied / basic / unsatisfied, if the citizen rated
    photos: int  # how many photos staff ticked for publication


def _title(row: dict[str, Any]) -> str:
    return row["public_title"] or _excerpt(row["public_text"] or "", 60)


def _excerpt(text: str, size: int) -> str:
    line = " ".join(text.split())
    return line if len(line) <= size else line[: size - 1] + "…"


async def _codes(model: Any, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return dict(await model.filter(id__in=list(ids)).values_list("id", "code"))


async def _id_of(model: Any, code: str | None) -> int | None:
    """The id of a category or department code; 0 (matching nothing) for an unknown one."""
    if not code:
        return None
    row = await model.filter(code=code[:64]).first().values("id")
    return int(row["id"]) if row else 0


async def board_page(
    text: str, page: int, *, category: str | None = None, department: str | None = None
) -> BoardPage:
    """One page of published cases matching the search and filters, newest filed first."""
    page = min(max(1, page), MAX_PAGE)
    query = published_cases()
    if (category_id := await _id_of(Category, category)) is not None:
        query = query.filter(category_id=category_id)
    if (department_id := await _id_of(Department, department)) is not None:
        query = query.filter(department_id=department_id)
    words = search_words(text)
    phases = await search_phases(words, category_id=category_id, department_id=department_id)
    for conditions in phases:
        searched = query
        for subquery in conditions:
            searched = searched.filter(id__in=subquery)
        rows = (
            await searched.order_by("-id")
            .offset((page - 1) * PAGE_SIZE)
            .limit(PAGE_SIZE + 1)
            .values(*_ROW)
        )
        if len(rows) > PAGE_SIZE:  # the page is full: no later phase would change it
            break
    categories = await _codes(Category, {r["category_id"] for r in rows})
    departments = await _codes(
        Department, {r["department_id"] for r in rows if r["department_id"]}
    )
    found = tuple(
        BoardRow(
            tracking=row["tracking"],
            title=_title(row),
            excerpt=_excerpt(row["public_text"] or "", EXCERPT),
            category_code=categories.get(row["category_id"]),
            department_code=departments.get(row["department_id"]),
            created_at=row["created_at"],
            answered_at=row["first_answered_at"],
            published_at=row["published_at"],
        )
        for row in rows[:PAGE_SIZE]
    )
    return BoardPage(found, page, len(rows) > PAGE_SIZE)


async def board_case(tracking: str) -> BoardCase:
    """One published case as the public reads it; BoardCaseNotFound for any other number."""
    return (await _cases([await _published_row(tracking)]))[0]


async def _cases(rows: list[dict[str, Any]]) -> list[BoardCase]:
    categories = await _codes(Category, {r["category_id"] for r in rows})
    departments = await _codes(
        Department, {r["department_id"] for r in rows if r["department_id"]}
    )
    ratings = dict(
        await Rating.filter(case_id__in=[r["id"] for r in rows]).values_list(
            "case_id", "satisfaction"
        )
    )
    return [
        BoardCase(
            tracking=row["tracking"],
            title=_title(row),
            text=row["public_text"],
            note=row["public_note"] or None,
            category_code=categories.get(row["category_id"]),
            department_code=departments.get(row["department_id"]),
            created_at=row["created_at"],
            answered_at=row["first_answered_at"],
            published_at=row["published_at"],
            satisfaction=str(ratings[row["id"]]) if row["id"] in ratings else None,
            photos=len(row["public_photos"] or ()),
        )
        for row in rows
    ]


async def board_photo(tracking: str, index: int) -> str:
    """The Telegram file id of a published case's photo that staff ticked; BoardCaseNotFound."""
    row = await _published_row(tracking)
    photos = list(row["public_photos"] or ())
    if not 0 <= index < len(photos):
        raise BoardCaseNotFound(tracking)
    return str(photos[index])


async def _published_row(tracking: str) -> dict[str, Any]:
    number = canonical_or_none(tracking)
    row = None
    if number is not None:
        row = (
            await published_cases()
            .filter(tracking=number)
            .first()
            .values(*_ROW, "public_note", "public_photos")
        )
    if row is None:
        raise BoardCaseNotFound(tracking)
    return dict(row)


async def board_feed() -> list[BoardCase]:
    """The latest FEED_SIZE published cases, the most recently published first."""
    rows = (
        await published_cases()
        .order_by("-published_at", "-id")
        .limit(FEED_SIZE)
        .values(*_ROW, "public_note", "public_photos")
    )
    return await _cases([dict(row) for row in rows])
