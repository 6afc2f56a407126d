"""When generated cases come in: the desk's hours, weekdays and seasons, and the moments of `n`
cases drawn from them in order, one at a time (nothing held but the hourly weights)."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import datetime
from itertools import accumulate
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from bot.case_generator_rows import CategoryRow

HOUR = 3600.0
DAY = 24 * HOUR
YEARS = 3
ZONE = ZoneInfo("Asia/Shanghai")

# Local hour of day → relative volume: quiet nights, morning and afternoon peaks.
HOURLY = (1, 1, 1, 1, 1, 2, 4, 8, 14, 18, 18, 15, 10, 12, 16, 16, 14, 11, 9, 8, 7, 5, 3, 2)
WEEKDAY = (1.0, 1.0, 0.95, 0.95, 0.9, 0.55, 0.5)  # Monday first
# Domains that follow the seasons: heating in the cold months, noise and rubbish in summer.
WINTER = {"heating": 6.0}
SUMMER = {"noise": 1.6, "environment": 1.3, "water": 1.2, "power": 1.3}


def hour_weights(start: float, hours: int) -> list[float]:
    """Relative volume of each hour of the span: day, week, a slow growth, and some noise."""
    rng = random.Random(7)  # noqa: S311 - made-up data, not secrets
    weights = []
    for h in range(hours):
        local = datetime.fromtimestamp(start + h * HOUR, ZONE)
        growth = 0.75 + 0.5 * h / hours
        weights.append(
            HOURLY[local.hour] * WEEKDAY[local.weekday()] * growth * rng.uniform(0.85, 1.15)
        )
    return weights


def moments(rng: random.Random, weights: list[float], start: float, n: int) -> Iterator[float]:
    """`n` moments drawn from the hourly `weights`, yielded in order one at a time (nothing held
    but the weights): the order statistics of n uniforms, from the largest of the mirrored ones
    down (v_k = v_(k-1) · r^(1/(n-k+1))), mapped through the weights' piecewise-linear CDF."""
    total = sum(weights)
    hour, below = 0, 0.0  # the hour reached, and the weight of the hours before it
    v = 1.0
    for k in range(n):
        v *= (1.0 - rng.random()) ** (1.0 / (n - k))
        x = (1.0 - v) * total
        while hour < len(weights) - 1 and below + weights[hour] < x:
            below += weights[hour]
            hour += 1
        within = min(1.0, max(0.0, (x - below) / weights[hour]))
        yield start + (hour + within) * HOUR


def monthly_category_weights(categories: list[CategoryRow]) -> list[list[float]]:
    """Cumulative category weights for each calendar month (index 0: January)."""
    base = {cat.code: 1.0 + (hash_code(cat.code) % 5) for cat in categories}
    tables = []
    for month in range(1, 13):
        weights = []
        for cat in categories:
            w = base[cat.code]
            if month in (11, 12, 1, 2, 3):
                w *= WINTER.get(cat.domain, 1.0)
            elif cat.domain == "heating":
                w *= 0.15
            if month in (6, 7, 8):
                w *= SUMMER.get(cat.domain, 1.0)
            weights.append(w)
        tables.append(list(accumulate(weights)))
    return tables


def hash_code(text: str) -> int:
    """A stable small number from a code (Python's hash() changes between runs)."""
    return sum(ord(ch) * (i + 1) for i, ch in enumerate(text))
