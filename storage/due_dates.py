"""Due dates: when a time limit given in hours or working days runs out.

Pure functions, no database: the holiday and make-up-day lists come from a data file
(storage.work_calendar); here they are plain parameters.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

_SATURDAY = 5
# The desk's working hours on a working day, local time: the acceptance limit counts these.
WORKING_HOURS: tuple[tuple[time, time], ...] = ((time(9), time(12)), (time(13), time(18)))


def is_working_day(
    day: date,
    *,
    holidays: frozenset[date] = frozenset(),
    workdays_extra: frozenset[date] = frozenset(),
) -> bool:
    """Monday to Friday, minus holidays, plus make-up working days (调休) that fall on weekends.

    A date in both lists is a holiday: a make-up day is only ever declared for a weekend, so the
    overlap is a data error and the citizen-friendly reading (later deadline) wins.
    """
    if day in holidays:
        return False
    return day.weekday() < _SATURDAY or day in workdays_extra


def due_at(
    start: datetime,
    *,
    hours: int | None,
    working_days: int | None,
    zone: ZoneInfo,
    holidays: frozenset[date] = frozenset(),
    workdays_extra: frozenset[date] = frozenset(),
) -> datetime:
    """When a limit that starts at `start` runs out, as an aware UTC datetime.

    Exactly one of `hours` and `working_days` is given (ValueError otherwise; negative too).

    - `hours`: elapsed time, `start + hours`, whatever the calendar says (urgent matters such as
      heating or water do not wait for Monday).
    - `working_days`: the same local wall-clock time (in `zone`) on the N-th working day after
      the start day. Working days are Monday to Friday in `zone`, minus `holidays`, plus
      `workdays_extra` (weekend days declared working days to make up for a holiday).
      Friday 18:00 + 1 working day is Monday 18:00.
      A start on a non-working day counts from the start (00:00) of the next working day: a case
      filed on Saturday afternoon with 1 working day is due on Tuesday 00:00, that is, the citizen
      gets one full working day (Monday). 0 working days is the start itself, moved that way.
      A wall-clock time that does not exist on the due day (a DST gap) is read as zoneinfo reads
      it (shifted by the gap); zones without DST, like Asia/Shanghai, never meet that.
    """
    if start.tzinfo is None or start.utcoffset() is None:
        raise ValueError("start must be timezone-aware")
    if (hours is None) == (working_days is None):
        raise ValueError("give exactly one of hours and working_days")
    if hours is not None:
        if hours < 0:
            raise ValueError("hours must not be negative")
        return (start + timedelta(hours=hours)).astimezone(UTC)
    if working_days is None or working_days < 0:
        raise ValueError("working_days must not be negative")

    def working(day: date) -> bool:
        return is_working_day(day, holidays=holidays, workdays_extra=workdays_extra)

    local = start.astimezone(zone)
    day, clock = local.date(), local.time().replace(tzinfo=None)
    if not working(day):
        day, clock = _next_working_day(day, working), time(0)
    for _ in range(working_days):
        day = _next_working_day(day, working)
    return datetime.combine(day, clock, tzinfo=zone).astimezone(UTC)


def _next_working_day(day: date, working: Callable[[date], bool]) -> date:
    # A year without a working day is a broken holiday list; fail loudly rather than spin.
    for step in range(1, 367):
        candidate = day + timedelta(days=step)
        if working(candidate):
            return candidate
    raise ValueError("no working day within a year: check the holiday list")


def working_hours_after(
    start: datetime,
    hours: float,
    *,
    zone: ZoneInfo,
    holidays: frozenset[date] = frozenset(),
    workdays_extra: frozenset[date] = frozenset(),
    periods: tuple[tuple[time, time], ...] = WORKING_HOURS,
) -> datetime:
    """The moment `hours` working hours after `start`, as an aware UTC datetime.

    Working hours are the `periods` (local wall-clock spans in `zone`, by default 09:00-12:00
    and 13:00-18:00) of working days (as `is_working_day` says). Time outside them does not
    count: a case filed at 17:00 on Friday with 2 hours is due at 10:00 on Monday, one filed at
    11:00 is due at 14:00 (lunch does not count). A limit that ends exactly at the end of a
    period is due then (12:00), not at the start of the next one. 0 hours is the first working
    moment at or after `start`. Wall-clock spans are counted as written, so on a DST change day
    a span is off by the change; zones without DST never meet that.
    """
    if start.tzinfo is None or start.utcoffset() is None:
        raise ValueError("start must be timezone-aware")
    if hours < 0:
        raise ValueError("hours must not be negative")
    if not periods:
        raise ValueError("no working hours in a day")
    remaining = timedelta(hours=hours)
    cursor = start.astimezone(zone).replace(tzinfo=None)  # local wall clock
    day = cursor.date()
    for _ in range(367):
        if is_working_day(day, holidays=holidays, workdays_extra=workdays_extra):
            for opens, closes in periods:
                begin = max(datetime.combine(day, opens), cursor)
                end = datetime.combine(day, closes)
                if begin >= end:
                    continue
                if remaining <= end - begin:
                    return (begin + remaining).replace(tzinfo=zone).astimezone(UTC)
                remaining -= end - begin
        day += timedelta(days=1)
        cursor = datetime.combine(day, time(0))
    raise ValueError("no working day within a year: check the holiday list")


def parse_working_hours(text: str) -> tuple[tuple[time, time], ...]:
    """Working hours as written ("09:00-12:00,13:00-18:00") as pairs of times.

    ValueError if malformed. The spans must be in order within the day and must not overlap.
    """
    periods: list[tuple[time, time]] = []
    for part in text.replace(" ", "").split(","):
        opens, sep, closes = part.partition("-")
        if not sep:
            raise ValueError(f"{part!r} is not HH:MM-HH:MM")
        span = (time.fromisoformat(opens), time.fromisoformat(closes))
        if span[0] >= span[1] or (periods and span[0] < periods[-1][1]):
            raise ValueError(f"{part!r} is empty, out of order or overlaps")
        periods.append(span)
    return tuple(periods)
