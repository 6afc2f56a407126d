"""The working calendar from its data file: working hours (the acceptance limit), due dates on
the shipped mainland-China calendar, and a malformed file stopping start-up."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.settings import SettingsError, load_settings
from storage.due_dates import parse_working_hours, working_hours_after
from storage.work_calendar import (
    SHIPPED_CALENDAR,
    CalendarInvalid,
    WorkCalendar,
    load_calendar,
)
from tests.harness import TEST_TOKEN
from tests.start_up import start_up

SHANGHAI = ZoneInfo("Asia/Shanghai")
CN = load_calendar(SHIPPED_CALENDAR, zone=SHANGHAI)


def local(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def after(start: datetime, hours: float, calendar: WorkCalendar = CN) -> datetime:
    due = calendar.working_hours_after(start, hours)
    assert due.tzinfo is UTC
    return due


def test_working_hours_skip_lunch_and_the_evening() -> None:
    assert after(local(2025, 3, 4, 9), 2) == local(2025, 3, 4, 11)
    assert after(local(2025, 3, 4, 11), 2) == local(2025, 3, 4, 14)  # 12:00-13:00 is lunch
    assert after(local(2025, 3, 4, 10), 2) == local(2025, 3, 4, 12)  # the end of a span counts
    assert after(local(2025, 3, 4, 12, 30), 2) == local(2025, 3, 4, 15)  # filed over lunch
    assert after(local(2025, 3, 4, 17), 2) == local(2025, 3, 5, 10)  # overnight
    assert after(local(2025, 3, 4, 20), 2) == local(2025, 3, 5, 11)  # filed in the evening
    assert after(local(2025, 3, 4, 7), 0.5) == local(2025, 3, 4, 9, 30)  # before opening
    assert after(local(2025, 3, 4, 9), 8) == local(2025, 3, 4, 18)  # a whole working day
    assert after(local(2025, 3, 4, 9), 9) == local(2025, 3, 5, 10)


def test_working_hours_skip_weekends_holidays_and_count_make_up_days() -> None:
    assert after(local(2025, 3, 7, 17), 2) == local(2025, 3, 10, 10)  # Friday -> Monday
    assert after(local(2025, 3, 8, 10), 2) == local(2025, 3, 10, 11)  # filed on Saturday
    # Labour Day 2025: 1-5 May off; Sunday 27 April is a working day.
    assert after(local(2025, 4, 25, 17), 2) == local(2025, 4, 27, 10)  # the make-up Sunday
    assert after(local(2025, 4, 30, 17), 2) == local(2025, 5, 6, 10)  # over the holiday
    # Spring Festival 2026: 15-23 Feb off; Saturday 14 and 28 Feb are working days.
    assert after(local(2026, 2, 13, 17), 2) == local(2026, 2, 14, 10)
    assert after(local(2026, 2, 14, 17, 30), 1) == local(2026, 2, 24, 9, 30)


def test_working_hours_in_another_zone_and_custom_hours() -> None:
    berlin = WorkCalendar(
        zone=ZoneInfo("Europe/Berlin"), periods=parse_working_hours("08:00-16:00")
    )
    start = datetime(2025, 3, 4, 14, 0, tzinfo=UTC)  # 15:00 in Berlin
    assert after(start, 2, berlin) == datetime(2025, 3, 5, 8, 0, tzinfo=UTC)  # 09:00 local
    assert working_hours_after(start, 0, zone=SHANGHAI) == local(2025, 3, 5, 9)


@pytest.mark.parametrize("text", ["9-12", "09:00-08:00", "09:00-12:00,11:00-13:00", "x", ""])
def test_malformed_working_hours(text: str) -> None:
    with pytest.raises(ValueError, match=r"."):
        parse_working_hours(text)


def test_the_shipped_calendar() -> None:
    assert CN.official_years == {2025, 2026}
    assert CN.years == {2025, 2026, 2027}
    assert not CN.is_working_day(date(2025, 1, 28))  # Spring Festival's eve
    assert CN.is_working_day(date(2025, 1, 26))  # a make-up Sunday
    assert CN.is_working_day(date(2026, 1, 4))
    assert not CN.is_working_day(date(2026, 10, 7))
    assert CN.is_working_day(date(2026, 10, 10))
    assert not CN.is_working_day(date(2027, 2, 10))  # provisional: statutory days made up


def test_due_dates_on_the_shipped_calendar() -> None:
    def days(start: datetime, n: int) -> datetime:
        return CN.due(start, hours=None, working_days=n)

    # National Day 2025: 1-8 Oct off; Sunday 28 Sep and Saturday 11 Oct are working days.
    assert days(local(2025, 9, 26, 10), 1) == local(2025, 9, 28, 10)
    assert days(local(2025, 9, 30, 10), 1) == local(2025, 10, 9, 10)
    assert days(local(2025, 10, 9, 10), 2) == local(2025, 10, 11, 10)
    assert days(local(2025, 10, 3, 10), 1) == local(2025, 10, 10, 0)  # filed on the holiday
    # New Year 2026: 1-3 Jan off, Sunday 4 Jan worked.
    assert days(local(2025, 12, 31, 16), 1) == local(2026, 1, 4, 16)
    assert CN.due(local(2025, 12, 31, 16), hours=24, working_days=None) == local(2026, 1, 1, 16)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "calendar.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("official_years = [2025\n", "calendar.toml"),
        (
            '[[holiday]]\nyear = 2025\nname = "x"\noff = ["2025-02-30", "2025-03-01"]\n',
            "not a date",
        ),
        (
            '[[holiday]]\nyear = 2025\nname = "x"\noff = ["2025-03-03", "2025-03-01"]\n',
            "ends before",
        ),
        (
            '[[holiday]]\nyear = 2025\nname = "x"\noff = ["2025-03-03", "2025-03-04"]\n'
            'make_up = ["2025-03-05"]\n',
            "not a Saturday",
        ),
        (
            '[[holiday]]\nyear = 2025\nname = "x"\noff = ["2025-03-01", "2025-03-04"]\n'
            'make_up = ["2025-03-02"]\n',
            "both a day off",
        ),
        ('[[holiday]]\nname = "x"\noff = ["2025-03-03", "2025-03-04"]\n', "year"),
    ],
)
def test_a_malformed_calendar_is_refused(tmp_path: Path, text: str, problem: str) -> None:
    with pytest.raises(CalendarInvalid, match=problem):
        load_calendar(write(tmp_path, text), zone=SHANGHAI)
    settings = load_settings(None, calendar_file=str(write(tmp_path, text)))
    with pytest.raises(SettingsError, match=r"^MINSHENG_CALENDAR_FILE is malformed: "):
        settings.calendar()


def test_settings_default_to_the_shipped_calendar() -> None:
    settings = load_settings(None, calendar_file="")
    assert settings.calendar().holidays == CN.holidays
    assert settings.overdue_list_time == time(9, 0)
    with pytest.raises(SettingsError, match="MINSHENG_WORKING_HOURS"):
        load_settings(None, working_hours="18:00-09:00")
    with pytest.raises(SettingsError, match="MINSHENG_OVERDUE_LIST_AT"):
        load_settings(None, overdue_list_at="9 am")


async def test_a_malformed_calendar_stops_start_up(tmp_path: Path) -> None:
    """Like every other malformed setting: exit 2, one line naming it, no database made."""
    path = write(tmp_path, '[[holiday]]\nyear = 2025\noff = ["2025-13-01", "2025-13-02"]\n')
    folder = tmp_path / "run"
    folder.mkdir()
    env = {"MINSHENG_BOT_TOKEN": TEST_TOKEN, "MINSHENG_CALENDAR_FILE": str(path)}
    code, out, err = await start_up(folder, "run", env)
    assert code == 2
    assert out == ""
    assert err.strip().splitlines() == [
        f"minsheng: MINSHENG_CALENDAR_FILE is malformed: {path}: holiday #1: '2025-13-01' is "
        "not a date (YYYY-MM-DD)"
    ]
    assert list(folder.iterdir()) == []
