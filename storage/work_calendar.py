"""The desk's working calendar: its time zone, working hours, holidays and make-up days.

Read once at start-up from a TOML data file (MINSHENG_CALENDAR_FILE, by default the shipped
storage/calendar_cn.toml) and passed to every due-date computation. The arithmetic itself is
in storage.due_dates; this module only holds the lists and reads the file.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from storage.due_dates import WORKING_HOURS, due_at, is_working_day, working_hours_after

SHIPPED_CALENDAR = Path(__file__).with_name("calendar_cn.toml")
_SATURDAY = 5


class CalendarInvalid(ValueError):
    """The calendar file cannot be read or says something impossible; the message says where."""


@dataclass(frozen=True)
class WorkCalendar:
    """Everything a due date depends on besides the limit itself."""

    zone: ZoneInfo
    holidays: frozenset[date] = frozenset()
    workdays_extra: frozenset[date] = frozenset()  # weekend days declared working (调休)
    periods: tuple[tuple[time, time], ...] = WORKING_HOURS
    official_years: frozenset[int] = frozenset()
    years: frozenset[int] = frozenset()  # every year the file has entries for

    def due(self, start: datetime, *, hours: int | None, working_days: int | None) -> datetime:
        """A limit in elapsed hours or in working days from `start` (see due_dates.due_at)."""
        return due_at(
            start,
            hours=hours,
            working_days=working_days,
            zone=self.zone,
            holidays=self.holidays,
            workdays_extra=self.workdays_extra,
        )

    def working_hours_after(self, start: datetime, hours: float) -> datetime:
        """`hours` working hours after `start` (see due_dates.working_hours_after)."""
        return working_hours_after(
            start,
            hours,
            zone=self.zone,
            holidays=self.holidays,
            workdays_extra=self.workdays_extra,
            periods=self.periods,
        )

    def is_working_day(self, day: date) -> bool:
        return is_working_day(day, holidays=self.holidays, workdays_extra=self.workdays_extra)


def load_calendar(
    path: Path, *, zone: ZoneInfo, periods: tuple[tuple[time, time], ...] = WORKING_HOURS
) -> WorkCalendar:
    """Read a calendar file; CalendarInvalid naming the file and the first problem.

    Each `[[holiday]]` has `year`, `name`, `off = [first, last]` (ISO dates, both days off) and
    `make_up` (weekend dates that are working days). A make-up day on a weekday, a make-up day
    that is also off, or a range that runs backwards is refused: each is a typing mistake that
    would silently move deadlines.
    """
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise CalendarInvalid(f"{path}: {exc}") from None
    holidays: set[date] = set()
    extra: set[date] = set()
    years: set[int] = set()
    entries = data.get("holiday", [])
    if not isinstance(entries, list):
        raise CalendarInvalid(f"{path}: [[holiday]] must be a list of tables")
    for number, entry in enumerate(entries, start=1):
        where = f"{path}: holiday #{number}"
        if not isinstance(entry, dict):
            raise CalendarInvalid(f"{where}: not a table")
        first, last, make_up = _entry(entry, where)
        years.add(int(entry["year"]))
        day = first
        while day <= last:
            holidays.add(day)
            day = date.fromordinal(day.toordinal() + 1)
        extra.update(make_up)
    clash = sorted(holidays & extra)
    if clash:
        raise CalendarInvalid(f"{path}: {clash[0]} is both a day off and a make-up working day")
    official = data.get("official_years", [])
    if not isinstance(official, list) or not all(isinstance(y, int) for y in official):
        raise CalendarInvalid(f"{path}: official_years must be a list of years")
    return WorkCalendar(
        zone=zone,
        holidays=frozenset(holidays),
        workdays_extra=frozenset(extra),
        periods=periods,
        official_years=frozenset(official),
        years=frozenset(years),
    )


def _entry(entry: dict[str, Any], where: str) -> tuple[date, date, list[date]]:
    if not isinstance(entry.get("year"), int):
        raise CalendarInvalid(f"{where}: `year` must be a number")
    off = entry.get("off")
    if not isinstance(off, list) or len(off) != 2:
        raise CalendarInvalid(f"{where}: `off` must be [first day, last day]")
    first, last = (_date(value, where) for value in off)
    if last < first:
        raise CalendarInvalid(f"{where}: `off` ends before it starts")
    make_up = [_date(value, where) for value in entry.get("make_up", [])]
    for day in make_up:
        if day.weekday() < _SATURDAY:
            raise CalendarInvalid(f"{where}: make-up day {day} is not a Saturday or Sunday")
    return first, last, make_up


def _date(value: object, where: str) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value  # TOML's own date literal
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise CalendarInvalid(f"{where}: {value!r} is not a date (YYYY-MM-DD)")
