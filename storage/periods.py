"""Report periods: what "today", "week", "2026-03" or "2026-03-01..2026-03-15" mean.

A period is a half-open range [start, end) of whole local days in the desk's time zone, given
back in UTC, because cases are stored in UTC and a day at the desk is not a UTC day.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

PERIOD_WORDS = ("today", "week", "month")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_RANGE = re.compile(r"^(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})$")
MAX_DAYS = 366 * 3  # a longer range is a typing mistake, not a report
# Days a report may cover: no desk has records before FIRST_DAY, and LAST_DAY leaves room for
# the day after a period (its exclusive end) and a week around it, which date.max does not.
FIRST_DAY = date(2000, 1, 1)
LAST_DAY = date(9998, 12, 31)


class PeriodInvalid(ValueError):
    """Not a period this desk understands (or a range that ends before it starts)."""


@dataclass(frozen=True)
class Period:
    start: datetime  # UTC, inclusive
    end: datetime  # UTC, exclusive
    first_day: date  # local, inclusive
    last_day: date  # local, inclusive

    @property
    def label(self) -> str:
        """How the period is shown: one day, or first..last."""
        if self.first_day == self.last_day:
            return self.first_day.isoformat()
        return f"{self.first_day.isoformat()}..{self.last_day.isoformat()}"

    def days(self) -> list[date]:
        count = (self.last_day - self.first_day).days + 1
        return [self.first_day + timedelta(days=n) for n in range(count)]


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def days_period(first: date, last: date, zone: ZoneInfo) -> Period:
    """The whole local days from `first` to `last`, both included."""
    if last < first:
        raise PeriodInvalid(f"{last} is before {first}")
    if (last - first).days > MAX_DAYS:
        raise PeriodInvalid("the range is too long")
    if first < FIRST_DAY or last > LAST_DAY:
        raise PeriodInvalid(f"only days from {FIRST_DAY} to {LAST_DAY}")
    return Period(
        local_midnight(first, zone), local_midnight(last + timedelta(days=1), zone), first, last
    )


def week_of(day: date, zone: ZoneInfo) -> Period:
    """The ISO week (Monday to Sunday) that holds `day`."""
    monday = day - timedelta(days=day.weekday())
    return days_period(monday, monday + timedelta(days=6), zone)


def month_of(year: int, month: int, zone: ZoneInfo) -> Period:
    if not (FIRST_DAY.year <= year <= LAST_DAY.year and 1 <= month <= 12):
        raise PeriodInvalid(f"{year:04d}-{month:02d}")
    first = date(year, month, 1)
    following = date(year + month // 12, month % 12 + 1, 1)
    return days_period(first, following - timedelta(days=1), zone)


def parse_period(text: str | None, *, now: datetime, zone: ZoneInfo) -> Period:
    """today · week (this Monday on) · month (this month; the default) · YYYY-MM · FROM..TO."""
    today = now.astimezone(zone).date()
    word = (text or "month").strip().lower()
    if word == "today":
        return days_period(today, today, zone)
    if word == "week":
        return week_of(today, zone)
    if word == "month":
        return month_of(today.year, today.month, zone)
    if found := _MONTH.match(word):
        return month_of(int(found.group(1)), int(found.group(2)), zone)
    if found := _RANGE.match(word):
        try:
            first, last = (date.fromisoformat(found.group(n)) for n in (1, 2))
        except ValueError:
            raise PeriodInvalid(word) from None
        return days_period(first, last, zone)
    raise PeriodInvalid(word)


def looks_like_period(text: str) -> bool:
    """Whether a command argument is meant as a period (else it is a department code)."""
    word = text.strip().lower()
    return word in PERIOD_WORDS or bool(_MONTH.match(word) or _RANGE.match(word))
