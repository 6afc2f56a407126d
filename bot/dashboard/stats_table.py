"""The statistics page's tables: the period's figures, and the departments ranked by score.

The same figures as /stats (storage.stats; README "Figures"), laid out as rows of a table:
what the figure is, its value, and what it was counted from. Departments by name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.i18n import Translator
from bot.texts.reports import RANKED_ROWS, hours, pct
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
        return t.gettext("{count} of {total} rated", count=count, total=f.rated)

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
