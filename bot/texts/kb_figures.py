"""The knowledge base's figures as /stats and the dashboard's statistics page show them: the
instant-answer rate (即时答复率), the most used articles and the gaps (storage.kb_figures)."""

from __future__ import annotations

import html
from dataclasses import dataclass

from bot.i18n import Translator
from bot.texts.reports import pct
from storage.kb_figures import KbFigures


@dataclass(frozen=True)
class ArticleRow:
    title: str
    code: str
    count: int


def rate_line(fig: KbFigures, t: Translator) -> str:
    return t.gettext(
        "Instant-answer rate: {rate} (answered by an article: {answered}; inquiries filed: "
        "{filed})",
        rate=pct(fig.instant_answer_rate),
        answered=fig.deflections,
        filed=fig.inquiries_filed,
    )


def article_rows(found: list[tuple[str, int]], titles: dict[str, str]) -> list[ArticleRow]:
    return [ArticleRow(titles.get(code, code), code, count) for code, count in found]


def kb_text(fig: KbFigures, titles: dict[str, str], t: Translator) -> str:
    """The /stats block (HTML): the rate, then the most used articles and the gaps, if any."""
    lines = [f"<b>{html.escape(t.gettext('Knowledge base'))}</b>", html.escape(rate_line(fig, t))]
    for heading, found in (
        (t.gettext("Most used articles:"), fig.most_used),
        (t.gettext("Gaps (articles most often followed by “File my request anyway”):"), fig.gaps),
    ):
        if found:
            lines.append(html.escape(heading))
            lines += [
                f"{n}. {html.escape(row.title)} ({row.count})"
                for n, row in enumerate(article_rows(found, titles), start=1)
            ]
    return "\n".join(lines)
