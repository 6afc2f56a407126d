"""What the dashboard needs to edit an article: its texts in every language, and who may edit.

Saving is storage.knowledge.save_article (a new version, authorized there); this module only
reads. `may_edit` asks the same access rule (storage.staff.check, which writes nothing), so the
page offers the form to exactly those whom saving would let through.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from storage.knowledge import KbArticleNotFound
from storage.models import KbArticle
from storage.staff import StaffAction, StaffNotAuthorized, check


@dataclass(frozen=True)
class ArticleTexts:
    """An article's current texts, keyed by language, as the edit form shows them."""

    code: str
    titles: dict[str, str]
    bodies: dict[str, str]
    keywords: dict[str, list[str]]
    review_by: date
    department_code: str | None
    version: int


async def article_texts(code: str) -> ArticleTexts:
    """The current version's texts in every language; KbArticleNotFound."""
    row = await (
        KbArticle.filter(code=code)
        .first()
        .values("code", "titles", "bodies", "keywords", "review_by", "department__code", "version")
    )
    if row is None:
        raise KbArticleNotFound(code)
    return ArticleTexts(
        code=row["code"],
        titles=dict(row["titles"] or {}),
        bodies=dict(row["bodies"] or {}),
        keywords={k: list(v) for k, v in (row["keywords"] or {}).items()},
        review_by=row["review_by"],
        department_code=row["department__code"],
        version=row["version"],
    )


async def may_edit(user_id: int, code: str) -> bool:
    """Whether this staff member may save a new version of the article (an admin, a supervisor
    over its department, or staff of the department that owns it)."""
    row = await KbArticle.filter(code=code).first().values("department_id")
    if row is None:
        return False
    try:
        await check(user_id, StaffAction.EDIT_ARTICLE, [row["department_id"]])
    except StaffNotAuthorized:
        return False
    return True
