"""The words of a knowledge-base article as staff read it, in the bot and on the dashboard."""

from __future__ import annotations

from bot.i18n import Translator
from storage.knowledge import ArticleView, articles


def fallback_line(view: ArticleView, t: Translator) -> str:
    """Said when the article has no text in the reader's language ("" when it has)."""
    if not view.fallback:
        return ""
    return t.gettext(
        "This article has no text in your language yet; shown in the desk's language."
    )


def votes_line(view: ArticleView, t: Translator) -> str:
    return t.gettext(
        "Citizens found it helpful: {helpful}; not helpful: {not_helpful}",
        helpful=view.helpful,
        not_helpful=view.not_helpful,
    )


def article_text(view: ArticleView, t: Translator, department: str) -> str:
    """An article in full, as plain text: title, body, owner, review-by date, votes."""
    lines = [view.title, ""]
    if note := fallback_line(view, t):
        lines += [f"({note})", ""]
    lines += [
        view.body,
        "",
        t.gettext("Code: {code}", code=view.code),
        t.gettext("Owning department: {department}", department=department),
        t.gettext("Review by: {date}", date=view.review_by.isoformat()),
        votes_line(view, t),
    ]
    return "\n".join(lines)


async def article_titles(language: str) -> dict[str, str]:
    """Every article's title by code, in `language` where it has one (for the digest)."""
    return {
        view.code: view.title for view in await articles(language, language, include_inactive=True)
    }
