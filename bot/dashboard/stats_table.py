"""The statistics page's tables: the period's figures, and the departments ranked by score.

The same figures as /stats (storage.stats; README "Figures"), laid out as rows of a table:
what the figure is, its value, and what it was counted from. Departments by name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.i18n import Translator
from bot.texts.kb_figures import ArticleRow, article_rows
from bot.texts.kb_staff import article_titles
from bot.texts.reports import RANKED_ROWS, hours, pct
from storage.kb_figures import kb_figures
from storage.periods import Period
from storage.stats import Figures, Stats
from storage.stats_series import name_in


@dataclass(frozen=True)
class FigureRow:
    label: str
    value: str
    basis: str  # what it was counted from ("3 of 4"), or ""


@dataclass(frozen=True)
class RankRow:
    rank: str
    department: str
    score: str
    received: int
    on_time: str
    satisfied: str


def figure_rows(f: Figures, t: Translator) -> list[FigureRow]:
    """One row per figure, in the order of /stats."""

    def of(count: int, total: int) -> str:
        return t.gettext("{count} of {total}", count=count, total=total)

    def of_rated(count: int) -> str:
        return t.gettext("{count} of {total} rated", count=count, total=f.rated_counted)

    def of_answered(count: int) -> str:
        return t.gettext("{count} of {total} answered", count=count, total=f.answered)

    return [
        FigureRow(t.gettext("Received"), str(f.received), ""),
        FigureRow(t.gettext("Accepted"), pct(f.acceptance_rate), of(f.accepted, f.received)),
        FigureRow(
            t.gettext("Signed for on time"),
            pct(f.on_time_sign_rate),
            of(f.signed_on_time, f.sign_counted),
        ),
        FigureRow(
            t.gettext("Answered within the limit"),
            pct(f.response_rate),
            of(f.responded_on_time, f.response_counted),
        ),
        FigureRow(t.gettext("Resolved"), pct(f.resolution_rate), of_rated(f.resolved)),
        FigureRow(
            t.gettext("Completed"), pct(f.completion_rate), of(f.completed, f.completion_base)
        ),
        FigureRow(
            t.gettext("Completed on time"),
            pct(f.on_time_completion_rate),
            of(f.completed_on_time, f.completion_counted),
        ),
        FigureRow(t.gettext("Satisfaction"), pct(f.satisfaction_rate), of_rated(f.satisfied)),
        FigureRow(t.gettext("Feedback"), pct(f.feedback_rate), of_answered(f.rated)),
        FigureRow(
            t.gettext("Reopened after an answer"), pct(f.reopen_rate), of_answered(f.reopened)
        ),
        FigureRow(t.gettext("Callback rate"), pct(f.callback_rate), of_answered(f.called_back)),
        FigureRow(t.gettext("Disputes granted"), str(f.disputed), ""),
        FigureRow(t.gettext("Time to first answer, median"), hours(t, f.median_answer_hours), ""),
        FigureRow(t.gettext("Time to first answer, 90% within"), hours(t, f.p90_answer_hours), ""),
    ]


def rank_rows(stats: Stats, departments: dict[str, Any], t: Translator) -> list[RankRow]:
    """The departments by score, best first, by name; unassigned cases are a row of their own."""
    rows = []
    for d in stats.departments[:RANKED_ROWS]:
        f = d.figures
        name = (
            name_in(departments, d.code, t.language)
            if d.code is not None
            else t.gettext("not yet assigned")
        )
        rows.append(
            RankRow(
                rank=str(d.rank) if d.rank is not None else "—",
                department=name,
                score="—" if d.rank is None or f.score is None else f"{f.score:.1f}",
                received=f.received,
                on_time=pct(f.on_time_completion_rate),
                satisfied=pct(f.satisfaction_rate),
            )
        )
    return rows


@dataclass(frozen=True)
class KbTable:
    """The knowledge base's figures (desk-wide: None for a department's page)."""

    figures: list[FigureRow]
    most_used: list[ArticleRow]
    gaps: list[ArticleRow]


async def kb_table(period: Period, scope: str | None, t: Translator) -> KbTable | None:
    """The instant-answer rate, the most used articles and the gaps, as /stats gives them."""
    if scope is not None:
        return None
    fig = await kb_figures(period.start, period.end)
    titles = await article_titles(t.language)
    total = fig.deflections + fig.inquiries_filed
    return KbTable(
        figures=[
            FigureRow(
                t.gettext("Instant-answer rate"),
                pct(fig.instant_answer_rate),
                t.gettext("{count} of {total}", count=fig.deflections, total=total),
            ),
            FigureRow(t.gettext("Questions answered by an article"), str(fig.deflections), ""),
            FigureRow(t.gettext("Inquiries filed"), str(fig.inquiries_filed), ""),
        ],
        most_used=article_rows(fig.most_used, titles),
        gaps=article_rows(fig.gaps, titles),
    )
