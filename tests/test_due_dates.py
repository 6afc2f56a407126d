"""Due dates: hours, working days, weekends, holidays and make-up days."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from storage.due_dates import due_at, is_working_day

SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
# Spring Festival 2025 in mainland China: 28 Jan - 4 Feb off; Sunday 26 Jan and Saturday 8 Feb
# are working days that make up for it.
SPRING_FESTIVAL = frozenset(date(2025, 1, 28) + timedelta(days=i) for i in range(8))
MAKE_UP = frozenset({date(2025, 1, 26), date(2025, 2, 8)})


def local(
    year: int, month: int, day: int, hour: int, minute: int, zone: ZoneInfo = SHANGHAI
) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=zone)


def days(start: datetime, n: int, **calendar: frozenset[date]) -> datetime:
    return due_at(start, hours=None, working_days=n, zone=SHANGHAI, **calendar)


def test_hours_are_elapsed_time_over_the_weekend() -> None:
    friday = local(2025, 1, 10, 18, 0)
    due = due_at(friday, hours=24, working_days=None, zone=SHANGHAI)
    assert due == local(2025, 1, 11, 18, 0)
    assert due.tzinfo is UTC


def test_friday_evening_plus_one_working_day_is_monday_evening() -> None:
    due = days(local(2025, 1, 10, 18, 30), 1)
    assert due == local(2025, 1, 13, 18, 30)
    assert due.tzinfo is UTC
    assert due == datetime(2025, 1, 13, 10, 30, tzinfo=UTC)


def test_within_the_week_and_across_it() -> None:
    tuesday = local(2025, 1, 7, 9, 15)
    assert days(tuesday, 0) == tuesday
    assert days(tuesday, 3) == local(2025, 1, 10, 9, 15)
    assert days(tuesday, 4) == local(2025, 1, 13, 9, 15)
    assert days(tuesday, 15) == local(2025, 1, 28, 9, 15)


def test_a_start_on_the_weekend_counts_from_the_next_working_morning() -> None:
    saturday = local(2025, 1, 11, 15, 0)
    assert days(saturday, 0) == local(2025, 1, 13, 0, 0)
    assert days(saturday, 1) == local(2025, 1, 14, 0, 0)  # all of Monday is the citizen's day
    assert days(local(2025, 1, 12, 23, 59), 2) == local(2025, 1, 15, 0, 0)


def test_a_holiday_is_skipped() -> None:
    thursday = local(2025, 1, 9, 11, 0)
    friday_off = frozenset({date(2025, 1, 10)})
    assert days(thursday, 1, holidays=friday_off) == local(2025, 1, 13, 11, 0)
    # A start on the holiday itself counts from Monday morning.
    assert days(local(2025, 1, 10, 11, 0), 1, holidays=friday_off) == local(2025, 1, 14, 0, 0)


def test_a_make_up_saturday_is_a_working_day() -> None:
    friday = local(2025, 1, 10, 16, 0)
    saturday_on = frozenset({date(2025, 1, 11)})
    assert days(friday, 1, workdays_extra=saturday_on) == local(2025, 1, 11, 16, 0)
    assert days(friday, 2, workdays_extra=saturday_on) == local(2025, 1, 13, 16, 0)
    # Filed on the make-up Saturday: that day counts like a weekday.
    assert days(local(2025, 1, 11, 9, 0), 1, workdays_extra=saturday_on) == local(
        2025, 1, 13, 9, 0
    )


def test_the_spring_festival_week() -> None:
    calendar = {"holidays": SPRING_FESTIVAL, "workdays_extra": MAKE_UP}
    assert days(local(2025, 1, 24, 17, 0), 1, **calendar) == local(2025, 1, 26, 17, 0)
    assert days(local(2025, 1, 27, 10, 0), 1, **calendar) == local(2025, 2, 5, 10, 0)
    assert days(local(2025, 1, 27, 10, 0), 4, **calendar) == local(2025, 2, 8, 10, 0)
    assert days(local(2025, 1, 30, 10, 0), 1, **calendar) == local(2025, 2, 6, 0, 0)


def test_is_working_day() -> None:
    assert is_working_day(date(2025, 1, 10))
    assert not is_working_day(date(2025, 1, 11))
    assert is_working_day(date(2025, 1, 26), workdays_extra=MAKE_UP)
    assert not is_working_day(date(2025, 1, 29), holidays=SPRING_FESTIVAL)


def test_working_days_keep_the_wall_clock_across_a_dst_change() -> None:
    friday = local(2025, 3, 28, 10, 0, zone=BERLIN)  # CET, UTC+1
    due = due_at(friday, hours=None, working_days=1, zone=BERLIN)
    assert due == local(2025, 3, 31, 10, 0, zone=BERLIN)  # CEST, UTC+2
    assert due == datetime(2025, 3, 31, 8, 0, tzinfo=UTC)
    assert due_at(friday, hours=72, working_days=None, zone=BERLIN) == friday + timedelta(hours=72)


def test_the_zone_decides_the_day_not_the_start_offset() -> None:
    # 23:00 UTC on Friday is already Saturday 07:00 in Shanghai: a weekend start.
    start = datetime(2025, 1, 10, 23, 0, tzinfo=UTC)
    assert days(start, 1) == local(2025, 1, 14, 0, 0)


@pytest.mark.parametrize(
    ("hours", "working_days", "start"),
    [
        (None, None, local(2025, 1, 10, 9, 0)),
        (8, 1, local(2025, 1, 10, 9, 0)),
        (-1, None, local(2025, 1, 10, 9, 0)),
        (None, -1, local(2025, 1, 10, 9, 0)),
        (8, None, datetime(2025, 1, 10, 9, 0)),  # noqa: DTZ001
    ],
)
def test_bad_arguments(hours: int | None, working_days: int | None, start: datetime) -> None:
    with pytest.raises(ValueError, match=r"hours|days|aware"):
        due_at(start, hours=hours, working_days=working_days, zone=SHANGHAI)


def test_a_calendar_without_working_days_fails_loudly() -> None:
    every_day = frozenset(date(2025, 1, 1) + timedelta(days=i) for i in range(800))
    with pytest.raises(ValueError, match="no working day"):
        days(local(2025, 1, 10, 9, 0), 1, holidays=every_day)
