"""The three charts of a report period as PNGs: cases per day, per category, and the rates per
department. The figures come from storage; the drawing (matplotlib, seconds to load) is in
chart_drawing and is loaded only when a chart is drawn."""

from __future__ import annotations

import asyncio
from datetime import date, datetime
from zoneinfo import ZoneInfo

from bot.i18n import SOURCE, Translator
from storage.periods import Period
from storage.stats import Stats, compute_stats
from storage.stats_series import category_counts, volume_by_day

MAX_DEPARTMENT_BARS = 12


def _draw(
    stats: Stats,
    period: Period,
    volume: dict[date, int],
    categories: list[tuple[str, int]],
    t: Translator,
) -> list[bytes]:
    """The three PNGs."""
    # deferred: matplotlib takes seconds to load, and only the charts need it.
    from bot.texts.chart_drawing import category_chart, cjk_font, rates_chart, volume_chart

    legend = SOURCE if t.language.startswith("zh") and cjk_font() is None else t
    days = period.days()
    ranked = [d for d in stats.departments if d.code is not None][:MAX_DEPARTMENT_BARS]
    series = [
        (legend.gettext("completed on time"), [d.figures.on_time_completion_rate for d in ranked]),
        (legend.gettext("answered within the limit"), [d.figures.response_rate for d in ranked]),
        (legend.gettext("satisfied"), [d.figures.satisfaction_rate for d in ranked]),
    ]
    return [
        volume_chart(days, [volume.get(day, 0) for day in days]),
        category_chart(categories),
        rates_chart([d.code or "" for d in ranked], series),
    ]


async def chart_pngs(
    period: Period, scope: str | None, now: datetime, zone: ZoneInfo, t: Translator
) -> list[bytes]:
    """The three charts of a period as PNGs: per day, per category, rates per department."""
    stats = await compute_stats(period.start, period.end, scope, now=now)
    volume = await volume_by_day(period.start, period.end, scope, zone)
    categories = await category_counts(period.start, period.end, scope)
    # Drawing is CPU work: off the event loop, so other chats' messages keep going out.
    return await asyncio.to_thread(_draw, stats, period, volume, categories, t)
