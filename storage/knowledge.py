"""The knowledge base (知识库): articles that answer common questions before a case is filed.

This module is the import point: articles (read, search, edit, history, review dates) are here;
offers and their outcomes are storage.kb_offers, figures storage.kb_figures, the file loader
storage.kb_file, the ranking storage.kb_match. An article is shown in the language asked, else
in the other Chinese script for a Chinese reader, else in the desk's default language
(`fallback` says so), else in any language it has.

Search ranks the active articles (storage.kb_match); the ranking index is built once per set of
article versions and kept until an article changes, so a question costs one small query.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from tortoise.transactions import in_transaction

from storage.catalog import DepartmentNotFound
from storage.kb_figures import KbFigures, kb_figures
from storage.kb_match import Entry, Index, build_index, rank
from storage.kb_offers import (
    KbOfferNotFound,
    OfferView,
    answered,
    answered_on_call,
    filed,
    offer_for,
    offer_opened,
    open_offer,
    vote,
)
from storage.models import KbArticle, KbRevision
from storage.sql import fetch
from storage.staff import StaffAction, StaffNotAuthorized, check

__all__ = [
    "ArticleView",
    "DepartmentNotFound",
    "KbArticleChanged",
    "KbArticleNotFound",
    "KbFigures",
    "KbOfferNotFound",
    "OfferView",
    "RevisionView",
    "StaffNotAuthorized",
    "answered",
    "answered_on_call",
    "article",
    "articles",
    "articles_to_review",
    "filed",
    "kb_figures",
    "offer_for",
    "offer_opened",
    "open_offer",
    "revisions",
    "save_article",
    "search",
    "vote",
]


class KbArticleNotFound(LookupError):
    """No article has this code."""


class KbArticleChanged(Exception):
    """The article was saved by someone else since the editor opened it; `version` is now."""

    def __init__(self, code: str, version: int) -> None:
        super().__init__(f"{code} is at version {version}")
        self.version = version


@dataclass(frozen=True)
class ArticleView:
    code: str
    title: str
    body: str
    language: str  # the language shown
    fallback: bool  # shown in another language than the one asked
    categories: list[str]
    department_code: str | None
    review_by: date
    helpful: int
    not_helpful: int
    version: int
    active: bool


@dataclass(frozen=True)
class RevisionView:
    version: int
    titles: dict[str, str]
    bodies: dict[str, str]
    keywords: dict[str, list[str]]
    categories: list[str]
    review_by: date
    source: str  # "file" | "dashboard"
    by_staff: int | None
    created_at: datetime


_COLUMNS = (
    "code",
    "titles",
    "bodies",
    "keywords",
    "categories",
    "department__code",
    "review_by",
    "helpful",
    "not_helpful",
    "version",
    "active",
)


# A reader of one Chinese script reads the other far better than the desk's default language.
_SIBLING = {"zh_Hans": "zh_Hant", "zh_Hant": "zh_Hans"}


def _shown_language(texts: dict[str, str], language: str, default_language: str) -> str:
    for candidate in (language, _SIBLING.get(language, language), default_language):
        if texts.get(candidate):
            return candidate
    return next((lang for lang, text in sorted(texts.items()) if text), language)


def _view(row: dict[str, Any], language: str, default_language: str) -> ArticleView:
    titles, bodies = row["titles"] or {}, row["bodies"] or {}
    shown = _shown_language(titles, language, default_language)
    return ArticleView(
        code=row["code"],
        title=titles.get(shown, ""),
        body=bodies.get(shown) or bodies.get(default_language, ""),
        language=shown,
        fallback=shown != language,
        categories=list(row["categories"] or []),
        department_code=row["department__code"],
        review_by=row["review_by"],
        helpful=row["helpful"],
        not_helpful=row["not_helpful"],
        version=row["version"],
        active=row["active"],
    )


async def article(code: str, language: str, default_language: str) -> ArticleView:
    """One article (active or not) in `language`, else the desk's default; KbArticleNotFound."""
    row = await KbArticle.filter(code=code).first().values(*_COLUMNS)
    if row is None:
        raise KbArticleNotFound(code)
    return _view(row, language, default_language)


async def articles(
    language: str, default_language: str, *, include_inactive: bool = False
) -> list[ArticleView]:
    """Every article, by code (the inactive ones too when asked)."""
    query = KbArticle.all() if include_inactive else KbArticle.filter(active=True)
    rows = await query.order_by("code").values(*_COLUMNS)
    return [_view(r, language, default_language) for r in rows]


class _IndexCache:
    """The ranking index of the active articles, rebuilt when any of them changes."""

    def __init__(self) -> None:
        self._key: tuple[tuple[Any, ...], ...] | None = None
        self._index: Index | None = None

    async def get(self) -> Index:
        # Asked at every description: plain SQL (storage/sql.py), the values as stored.
        key = tuple(
            (row["id"], row["version"], row["updated_at"])
            for row in await fetch(
                "SELECT id, version, updated_at FROM kb_article WHERE active = ? ORDER BY id", True
            )
        )
        if self._index is None or key != self._key:
            rows = await KbArticle.filter(active=True).order_by("code").values(*_COLUMNS)
            self._index = build_index([_entry(r) for r in rows])
            self._key = key
        return self._index


def _entry(row: dict[str, Any]) -> Entry:
    keywords = row["keywords"] or {}
    return Entry(
        code=row["code"],
        categories=tuple(row["categories"] or ()),
        titles=tuple((row["titles"] or {}).values()),
        bodies=tuple((row["bodies"] or {}).values()),
        keywords=tuple(k for words in keywords.values() for k in words),
    )


_INDEX = _IndexCache()


async def search(
    text: str,
    language: str,
    default_language: str,
    *,
    category: str | None = None,
    limit: int = 3,
) -> list[ArticleView]:
    """The active articles that answer `text` (any language), best first; [] if none fits."""
    codes = rank(await _INDEX.get(), text, category=category, limit=limit)
    if not codes:
        return []
    rows = {r["code"]: r for r in await KbArticle.filter(code__in=codes).values(*_COLUMNS)}
    return [_view(rows[c], language, default_language) for c in codes if c in rows]


async def save_article(
    code: str,
    *,
    titles: dict[str, str],
    bodies: dict[str, str],
    keywords: dict[str, list[str]],
    review_by: date,
    expected_version: int,
    by: int,
    now: datetime,
) -> int:
    """Save a new version of an existing article from the dashboard; returns its version.

    `by` must be an admin, a supervisor over the owning department, or its staff
    (StaffNotAuthorized otherwise, and nothing is written); KbArticleNotFound. The editor
    started from `expected_version`: if the article is at another one now, someone saved
    meanwhile and nothing is written (KbArticleChanged), so no edit silently undoes another.
    """
    async with in_transaction():
        row = await KbArticle.filter(code=code).select_for_update().first()
        if row is None:
            raise KbArticleNotFound(code)
        await check(by, StaffAction.EDIT_ARTICLE, [row.department_id])  # type: ignore[attr-defined]
        if row.version != expected_version:
            raise KbArticleChanged(code, row.version)
        row.titles, row.bodies, row.keywords = titles, bodies, keywords
        row.review_by, row.updated_at, row.version = review_by, now, row.version + 1
        await row.save()
        await KbRevision.create(
            article=row,
            version=row.version,
            titles=titles,
            bodies=bodies,
            keywords=keywords,
            categories=row.categories,
            review_by=review_by,
            source="dashboard",
            by_staff=by,
            created_at=now,
        )
        return row.version


async def revisions(code: str) -> list[RevisionView]:
    """An article's versions, newest first; KbArticleNotFound."""
    found = await KbArticle.filter(code=code).first().values("id")
    if found is None:
        raise KbArticleNotFound(code)
    rows = await KbRevision.filter(article_id=found["id"]).order_by("-version").values()
    return [
        RevisionView(
            version=r["version"],
            titles=r["titles"],
            bodies=r["bodies"],
            keywords=r["keywords"],
            categories=r["categories"],
            review_by=r["review_by"],
            source=r["source"],
            by_staff=r["by_staff"],
            created_at=r["created_at"],
        )
        for r in rows
    ]


async def articles_to_review(
    today: date,
    *,
    department_code: str | None = None,
    language: str = "en",
    default_language: str = "en",
) -> list[ArticleView]:
    """Active articles whose review-by date has passed (before `today`), oldest first."""
    query = KbArticle.filter(active=True, review_by__lt=today)
    if department_code is not None:
        query = query.filter(department__code=department_code)
    rows = await query.order_by("review_by", "code").values(*_COLUMNS)
    return [_view(r, language, default_language) for r in rows]
