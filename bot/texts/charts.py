"""The three charts of a report period as PNGs: cases per day, per category, and the rates per
department, titled and named in the reader's language. The figures come from storage; the
drawing (matplotlib, seconds to load) is in chart_drawing and is loaded only when a chart is
drawn."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.i18n import SOURCE, Translator
from storage.periods import Period
from storage.stats import Stats, compute_stats
from storage.stats_series import catalogue_names, category_counts, name_in, volume_by_day

MAX_DEPARTMENT_BARS = 12


@dataclass(frozen=True)
class ChartData:
    """What the charts show, read from storage: the figures, counts per day and per category,
    and the catalogue's names."""

    stats: Stats
    volume: dict[date, int]
    categories: list[tuple[str, int]]
    names: tuple[dict[str, Any], dict[str, Any]]


def _draw(data: ChartData, period: Period, t: Translator) -> list[bytes]:
    """The three PNGs."""
    # deferred: matplotlib takes seconds to load, and only the charts need it.
    from bot.texts.chart_drawing import can_draw, category_chart, rates_chart, volume_chart

    words = t if can_draw(t.language) else SOURCE  # no CJK font: English, never boxes
    language = words.language
    departments, categories = data.names
    days = period.days()
    ranked = [d for d in data.stats.departments if d.code is not None][:MAX_DEPARTMENT_BARS]
    series = [
        (words.gettext("completed on time"), [d.figures.on_time_completion_rate for d in ranked]),
        (words.gettext("answered within the limit"), [d.figures.response_rate for d in ranked]),
        (words.gettext("satisfied"), [d.figures.satisfaction_rate for d in ranked]),
    ]
    return [
        volume_chart(
            words.gettext("Requests per day, {period}", period=period.label),
            days,
            [data.volume.get(day, 0) for day in days],
        ),
        category_chart(
            words.gettext("Requests by category, {period}", period=period.label),
            [(name_in(categories, code, language), n) for code, n in data.categories],
        ),
        rates_chart(
            words.gettext("Rates by department, {period}", period=period.label),
            [name_in(departments, d.code, language) for d in ranked],
            series,
        ),
    ]


async def chart_pngs(
    period: Period, scope: str | None, now: datetime, zone: ZoneInfo, t: Translator
) -> list[bytes]:
    """The three charts of a period as PNGs: per day, per category, rates per department."""
    data = ChartData(
        await compute_stats(period.start, period.end, scope, now=now),
        await volume_by_day(period.start, period.end, scope, zone),
        await category_counts(period.start, period.end, scope),
        await catalogue_names(),
    )
    # Drawing is CPU work: off the event loop, so other chats' messages keep going out.
    return await asyncio.to_thread(_draw, data, period, t)
