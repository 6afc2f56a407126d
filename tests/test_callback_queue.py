"""The callback queue (回访) in storage: who enters it and when (the next working day on the
desk's calendar), what leaves it, and the rating sweep leaving a pending callback open."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta

import pytest

from storage.callback_queue import due_for_callback, next_working_day, queue_callbacks
from storage.callbacks import CallbackRefused, CallbackReport, record_callback
from storage.claims import file_for_caller
from storage.lifecycle import accept_case, submit_reply
from storage.models import (
    Case,
    CaseStatus,
    Citizen,
    Event,
    Rating,
    RatingSatisfaction,
    RatingSolved,
)
from storage.rating_sweeps import close_unrated, remind_unrated
from storage.staff import StaffNotAuthorized
from storage.work_calendar import WorkCalendar
from tests.case_fixtures import new_case
from tests.staff_fixtures import ADMIN, ALICE, HEAT_HANDLER, SHANGHAI, WATER_HANDLER, db, file_case

__all__ = ["db"]

CALENDAR = WorkCalendar(zone=SHANGHAI, holidays=frozenset({date(2025, 1, 13)}))
MONDAY_OFF = datetime(2025, 1, 10, 18, 0, tzinfo=SHANGHAI)  # Friday; Monday 13th is a holiday
TUESDAY_9 = datetime(2025, 1, 14, 9, 0, tzinfo=SHANGHAI)
NOT_REACHED = CallbackReport(reached=False, method="phone")


async def answered(tracking: str, at: datetime) -> None:
    await accept_case(tracking, "heating-company", by=ADMIN, now=at, zone=SHANGHAI)
    await submit_reply(tracking, "The valve was replaced this morning.", by=ADMIN, now=at)


async def due_numbers(now: datetime) -> set[str]:
    ids = await due_for_callback(Case.all(), now)
    return set(await Case.filter(id__in=ids).values_list("tracking", flat=True))


def test_next_working_day_skips_weekends_and_holidays() -> None:
    assert next_working_day(MONDAY_OFF, CALENDAR) == TUESDAY_9
    wednesday = datetime(2025, 1, 15, 23, 30, tzinfo=SHANGHAI)
    assert next_working_day(wednesday, CALENDAR) == datetime(2025, 1, 16, 9, tzinfo=SHANGHAI)


async def test_unreachable_phone_and_unrated_answers_enter_the_queue(db: None) -> None:
    """A phone case nobody claimed and a citizen who blocked the bot are due on the next
    working day; a reachable citizen's answer only once the reminder went out unanswered."""
    phone, _ = await file_for_caller(
        replace(new_case(), citizen_id=None),
        by=ADMIN,
        now=MONDAY_OFF,
        zone=SHANGHAI,
        staff_chat_id=None,
    )
    blocked, reachable = await file_case(ALICE), await file_case(ALICE)
    for tracking in (phone.tracking, blocked, reachable):
        await answered(tracking, MONDAY_OFF)
    await Citizen.filter(id=ALICE).update(unreachable=True)
    await Case.filter(tracking=reachable).update(citizen_id=None)  # forgotten: no one to call
    assert await queue_callbacks(MONDAY_OFF, calendar=CALENDAR) == 2
    assert await queue_callbacks(MONDAY_OFF, calendar=CALENDAR) == 0  # once per answer
    due = dict(await Case.all().values_list("tracking", "callback_due_at"))
    assert due[phone.tracking] == TUESDAY_9
    assert due[blocked] == TUESDAY_9
    assert due[reachable] is None
    assert await due_numbers(TUESDAY_9 - timedelta(minutes=1)) == set()
    assert await due_numbers(TUESDAY_9) == {phone.tracking, blocked}


async def test_after_the_reminder_and_three_failed_tries(db: None) -> None:
    """No rating after the reminder: due the next working day. The rating sweep keeps it open
    meanwhile; three tries that fail take it out, and it closes without feedback."""
    tracking = await file_case(ALICE)
    await answered(tracking, MONDAY_OFF)
    reminded = MONDAY_OFF + timedelta(days=3, hours=1)  # Monday 19:00 (a holiday)
    assert await remind_unrated(reminded) == 1
    assert await queue_callbacks(reminded, calendar=CALENDAR) == 1
    assert await due_numbers(TUESDAY_9) == {tracking}
    late = MONDAY_OFF + timedelta(days=8)
    assert await close_unrated(late) == 0  # a clerk's call is still to come
    for n in range(3):
        await record_callback(
            tracking,
            NOT_REACHED,
            by=HEAT_HANDLER,
            now=late + timedelta(minutes=n),
            staff_chat_id=None,
        )
    assert await due_numbers(late) == set()
    with pytest.raises(CallbackRefused) as used:
        await record_callback(tracking, NOT_REACHED, by=HEAT_HANDLER, now=late, staff_chat_id=None)
    assert used.value.why == "tries_used"
    assert await Event.filter(case__tracking=tracking, kind="callback_not_reached").count() == 1
    assert await close_unrated(late + timedelta(hours=1)) == 1
    assert await Case.filter(tracking=tracking).values_list("status", flat=True) == ["closed"]


async def test_reached_writes_one_staff_rating_and_refuses_another_department(db: None) -> None:
    tracking = await file_case(ALICE)
    await answered(tracking, MONDAY_OFF)
    reached = CallbackReport(
        reached=True,
        method="visit",
        solved=RatingSolved.SOLVED,
        satisfaction=RatingSatisfaction.BASIC,
        note="Warm again, thanks.",
    )
    with pytest.raises(StaffNotAuthorized):
        await record_callback(
            tracking, reached, by=WATER_HANDLER, now=TUESDAY_9, staff_chat_id=None
        )
    assert (
        await record_callback(
            tracking, reached, by=HEAT_HANDLER, now=TUESDAY_9, staff_chat_id=None
        )
        is CaseStatus.CLOSED
    )
    rating = await Rating.get(case__tracking=tracking)
    assert (rating.source, rating.staff_id, rating.contact_method) == (
        "staff",
        HEAT_HANDLER,
        "visit",
    )
    with pytest.raises(CallbackRefused):
        await record_callback(
            tracking, reached, by=HEAT_HANDLER, now=TUESDAY_9, staff_chat_id=None
        )
