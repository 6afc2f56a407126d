"""Time limits end to end, on the controllable clock: due dates on the calendar file, the
acceptance limit in working hours, the deadline sweeps (each exactly once, also when run twice
and across a restart), the pause, extensions (延期), urgent cases and the repeat flag."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bot.clock import ManualClock
from bot.sandbox import Sandbox
from bot.sweeps import all_sweeps
from bot.texts.cases import when
from storage.cases import NewCase, submit_case
from storage.citizens import touch_citizen
from storage.lifecycle import (
    accept_case,
    approve_reply,
    ask_citizen,
    citizen_answered,
    merge_case,
    reopen_case,
    submit_reply,
)
from storage.models import CaseKind
from storage.rating import rate_satisfaction, rate_solved
from storage.rating_reopen import reopen_by_citizen
from storage.tracking import format_tracking_number
from storage.work_calendar import SHIPPED_CALENDAR
from tests.databases import Database
from tests.following import OPEN_SENDS, Desk, buttons
from tests.harness import eventually, query, running_bot, settings_for
from tests.staff_desk import ADMIN, DENIED, HANDLER, SUPERVISOR, add_team, answer_of

SH = ZoneInfo("Asia/Shanghai")
CITIZEN, OTHER = 75_001, 75_002
HEATING = "City Heating Company"
REPLY = "We replaced the valve on your riser; the radiators are warm again since this morning."


def sh(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    """A Shanghai wall-clock time, as the clock gives it: in UTC."""
    return datetime(year, month, day, hour, minute, tzinfo=SH).astimezone(UTC)


@contextlib.asynccontextmanager
async def deadline_desk(
    sandbox: Sandbox, db_path: Database, clock: ManualClock, **env: str
) -> AsyncIterator[Desk]:
    # The background sweeper runs once at start and then not for an hour: the test runs the
    # sweeps itself, at the times it sets.
    settings = settings_for(
        sandbox,
        db_path,
        MINSHENG_ADMIN_IDS=str(ADMIN),
        MINSHENG_FLOOD_MESSAGES="100000",
        MINSHENG_SWEEP_INTERVAL="3600",
        **env,
    )
    async with running_bot(settings, clock) as runtime:
        yield Desk(sandbox, runtime, db_path)
        await eventually(lambda: not query(db_path, OPEN_SENDS), 20, what="sends recorded")


async def say(d: Desk, user_id: int, text: str) -> dict[str, Any]:
    """Send a private message; the one bot message it brings."""
    return await d.say(user_id, text, len(d.sandbox.messages(user_id)) + 1)


def at(clock: ManualClock, moment: datetime) -> datetime:
    clock.advance(moment - clock.now())
    return moment


async def file(d: Desk, now: datetime, citizen: int = CITIZEN) -> str:
    """A case filed as the intake conversation files it: on the desk's calendar."""
    await touch_citizen(citizen, first_name="Li", guessed_language="en")
    services = d.runtime.services
    new = NewCase(
        citizen_id=citizen,
        kind=CaseKind.COMPLAINT,
        category_code="heating.fees",
        text="The heating fee was charged twice this month.",
        photos=(),
        location=None,
        answers={},
        phone=None,
        anonymous=True,
    )
    case = await submit_case(
        new,
        now=now,
        zone=services.settings.zone,
        daily_limit=1000,
        staff_chat_id=None,
        calendar=services.calendar,
        accept_hours=services.settings.accept_limit_hours,
    )
    return case.tracking


async def accept(d: Desk, tracking: str, now: datetime) -> None:
    services = d.runtime.services
    await accept_case(
        tracking,
        "heating-company",
        by=ADMIN,
        now=now,
        zone=services.settings.zone,
        calendar=services.calendar,
    )


def moment(db_path: Database, tracking: str, column: str) -> datetime | None:
    value = query(
        db_path,
        f"SELECT {column} FROM service_case WHERE tracking = ?",  # noqa: S608
        (tracking,),
    )[0][0]
    return datetime.fromisoformat(value) if value else None


def column(db_path: Database, tracking: str, name: str) -> Any:
    return query(
        db_path,
        f"SELECT {name} FROM service_case WHERE tracking = ?",  # noqa: S608
        (tracking,),
    )[0][0]


def notices(db_path: Database, kind: str) -> int:
    """How many notices of `kind` were ever queued (sent or not)."""
    payloads = query(db_path, "SELECT payload FROM outbox_message")
    return sum(json.loads(payload).get("kind") == kind for (payload,) in payloads)


def events(db_path: Database, kind: str) -> int:
    return int(query(db_path, "SELECT count(*) FROM case_event WHERE kind = ?", (kind,))[0][0])


async def sweep(d: Desk) -> dict[str, int]:
    """Run the deadline sweeps once at the clock's time; what each did."""
    now = d.runtime.services.clock.now()
    done = {
        name: await run(now)
        for name, run in all_sweeps(d.runtime.services).items()
        if name.startswith("deadline")
    }
    d.runtime.sender.wake()
    return {name: count for name, count in done.items() if count}


async def staff_line(d: Desk, start: str, count: int = 1) -> str:
    """The latest staff-chat text starting with `start`, once there are `count` of them."""

    def found() -> list[str]:
        return [
            m.get("text") or ""
            for m in d.sandbox.messages(d.staff)
            if (m.get("text") or "").startswith(start)
        ]

    return (await eventually(lambda: len(found()) >= count and found(), 10, what=start))[-1]


def shown(moment: datetime | None) -> str:
    assert moment is not None
    return when(moment, SH, "en")


EXTRA_HOLIDAY = """
[[holiday]]
year = 2025
name = "A day off that only this desk has (test data)"
off = ["2025-03-05", "2025-03-05"]
make_up = []
"""
CALENDAR = SHIPPED_CALENDAR.read_text(encoding="utf-8") + EXTRA_HOLIDAY


async def test_due_dates_and_the_accept_limit_follow_the_calendar_file(
    sandbox: Sandbox, db_path: Database, tmp_path: Path
) -> None:
    path = tmp_path / "calendar.toml"
    path.write_text(CALENDAR, encoding="utf-8")
    clock = ManualClock(sh(2025, 3, 4, 11))
    async with deadline_desk(sandbox, db_path, clock, MINSHENG_CALENDAR_FILE=str(path)) as d:
        await add_team(d)
        # Tuesday 11:00 + 2 working hours: lunch does not count.
        tuesday = await file(d, clock.now())
        assert moment(db_path, tuesday, "accept_due_at") == sh(2025, 3, 4, 14)
        # Accepted by command at 16:00: 5 working days skip the desk's own Wednesday off.
        at(clock, sh(2025, 3, 4, 16))
        number = format_tracking_number(tuesday)
        done = await say(d, SUPERVISOR, f"/assign {number} heating-company")
        assert done["text"].startswith(f"Request {number} was assigned to City Heating Company")
        assert moment(db_path, tuesday, "due_at") == sh(2025, 3, 12, 16)
        # National Day 2025 from the shipped data: filed Friday 17:00, to be accepted by 10:00
        # on Sunday 28 Sep (a make-up working day); due on 10 Oct (28, 29, 30 Sep, 9, 10 Oct).
        friday = await file(d, at(clock, sh(2025, 9, 26, 17)))
        assert moment(db_path, friday, "accept_due_at") == sh(2025, 9, 28, 10)
        late = await file(d, clock.now(), citizen=OTHER)
        await accept(d, friday, at(clock, sh(2025, 9, 26, 17, 30)))
        assert moment(db_path, friday, "due_at") == sh(2025, 10, 10, 17, 30)
        # The unaccepted one goes to the supervisors once, on the make-up Sunday.
        at(clock, sh(2025, 9, 27, 12))
        assert "deadline_accept" not in await sweep(d)
        at(clock, sh(2025, 9, 28, 10))
        assert (await sweep(d)).get("deadline_accept") == 1
        assert await sweep(d) == {}
        text = await staff_line(d, "Supervisors:")
        assert text == (
            f"Supervisors: request {format_tracking_number(late)} was to be accepted "
            f"by {shown(sh(2025, 9, 28, 10))} and is still waiting."
        )
        assert notices(db_path, "staff_accept_overdue") == 1
        assert events(db_path, "accept_escalated") == 1


async def test_reminder_escalation_and_daily_list_once_across_a_restart(
    sandbox: Sandbox, db_path: Database
) -> None:
    clock = ManualClock(sh(2025, 3, 3, 10))  # Monday; due 5 working days later, Monday 10:00
    async with deadline_desk(sandbox, db_path, clock) as d:
        tracking = await file(d, clock.now())
        await accept(d, tracking, clock.now())
        assert moment(db_path, tracking, "due_at") == sh(2025, 3, 10, 10)
        # 75 % of the 7 days: Saturday 16:00.
        at(clock, sh(2025, 3, 8, 15, 59))
        assert await sweep(d) == {}
        at(clock, sh(2025, 3, 8, 16, 1))
        assert await sweep(d) == {"deadline_remind": 1}
        assert await sweep(d) == {}
        number = format_tracking_number(tracking)
        reminder = await staff_line(d, "Reminder for")
        assert reminder == (
            f"Reminder for {HEATING}: request {number} must be answered by "
            f"{shown(sh(2025, 3, 10, 10))}."
        )
    # A restart in between: the new process's first sweep (at start) finds nothing to do.
    async with deadline_desk(sandbox, db_path, clock) as d:
        assert await sweep(d) == {}
        at(clock, sh(2025, 3, 10, 9, 30))  # the list's hour, nothing overdue yet: marked, silent
        assert await sweep(d) == {}
        at(clock, sh(2025, 3, 10, 10, 1))
        assert await sweep(d) == {"deadline_escalate": 1}
        assert await sweep(d) == {}
        escalated = await staff_line(d, "Escalated")
        due = shown(sh(2025, 3, 10, 10))
        assert escalated == (
            f"Escalated to the supervisors: request {number} ({HEATING}) was "
            f"due by {due} and is not answered."
        )
        # The bot is down at 09:00 the next day: the first sweep after it sends the list.
        at(clock, sh(2025, 3, 11, 8, 59))
        assert await sweep(d) == {}
    at(clock, sh(2025, 3, 11, 11, 45))
    async with deadline_desk(sandbox, db_path, clock) as d:
        listed = await staff_line(d, "Overdue on")  # sent by the sweep at start
        assert listed == (
            f"Overdue on 2025-03-11: 1 request.\n• {number} · {HEATING} · "
            f"{shown(sh(2025, 3, 10, 10))}"
        )
        assert await sweep(d) == {}
        at(clock, sh(2025, 3, 12, 9))
        assert await sweep(d) == {"deadline_overdue_list": 1}
        await staff_line(d, "Overdue on 2025-03-12")
    assert notices(db_path, "staff_due_reminder") == 1
    assert notices(db_path, "staff_case_escalated") == 1
    assert notices(db_path, "staff_overdue_list") == 2
    assert events(db_path, "reminder_75") == 1
    assert events(db_path, "escalated") == 1
    marks = query(db_path, "SELECT key FROM sweep_mark WHERE key LIKE 'overdue:%' ORDER BY key")
    # Each day a sweep ran after 09:00 is marked, listed or not: Monday 3rd by the sweep at
    # start (10:00), none on Sunday 9th.
    days = (3, 8, 10, 11, 12)
    assert [key for (key,) in marks] == [f"overdue:2025-03-{day:02}" for day in days]


async def test_the_clock_stops_while_the_citizen_is_asked(
    sandbox: Sandbox, db_path: Database
) -> None:
    clock = ManualClock(sh(2025, 3, 3, 10))
    async with deadline_desk(sandbox, db_path, clock) as d:
        tracking = await file(d, clock.now())
        await accept(d, tracking, clock.now())
        at(clock, sh(2025, 3, 8, 17))
        assert await sweep(d) == {"deadline_remind": 1}
        await ask_citizen(
            tracking, "Which month was charged twice?", by=ADMIN, now=at(clock, sh(2025, 3, 9, 12))
        )
        assert moment(db_path, tracking, "paused_at") == sh(2025, 3, 9, 12)
        # Past the due date while paused: nothing is due, nobody is escalated.
        at(clock, sh(2025, 3, 11, 12))
        assert await sweep(d) == {}
        await citizen_answered(tracking, CITIZEN, "February.", now=clock.now())
        # Two days of pause (elapsed time): due two days later; the reminder's point moved
        # past when it was sent, so it will come again for the new date.
        assert moment(db_path, tracking, "due_at") == sh(2025, 3, 12, 10)
        assert moment(db_path, tracking, "paused_at") is None
        assert moment(db_path, tracking, "due_reminded_at") is None
        assert await sweep(d) == {"deadline_remind": 1}
        # Any other way out of awaiting_citizen ends the pause too (a merge).
        other = await file(d, clock.now(), citizen=OTHER)
        await accept(d, other, clock.now())
        await ask_citizen(other, "Which building?", by=ADMIN, now=clock.now())
        assert moment(db_path, other, "paused_at") is not None
        await merge_case(other, tracking, by=ADMIN, now=clock.now())
        assert moment(db_path, other, "paused_at") is None


async def test_an_extension_is_requested_granted_and_refused(
    sandbox: Sandbox, db_path: Database
) -> None:
    clock = ManualClock(sh(2025, 3, 3, 10))
    async with deadline_desk(sandbox, db_path, clock) as d:
        await add_team(d)
        tracking = await file(d, clock.now())
        await accept(d, tracking, clock.now())
        number = format_tracking_number(tracking)
        at(clock, sh(2025, 3, 8, 17))
        assert await sweep(d) == {"deadline_remind": 1}
        at(clock, sh(2025, 3, 10, 11))  # past 09:00 too: the day's list names it
        assert await sweep(d) == {"deadline_escalate": 1, "deadline_overdue_list": 1}
        sent = await say(d, HANDLER, f"/extend {number} 3 Waiting for the bank's statement")
        assert sent["text"] == (
            f"Your request for 3 more working days on {number} was sent to the supervisors."
        )
        notice = await staff_line(d, HEATING)
        assert notice == (
            f"{HEATING} asks for 3 more working days on request {number} (now due "
            f"by {shown(sh(2025, 3, 10, 10))}). Reason: Waiting for the bank's "
            "statement"
        )
        card = next(m for m in sandbox.messages(d.staff) if m.get("text") == notice)
        assert buttons(card) == [("Grant", f"dl:g:{tracking}"), ("Refuse", f"dl:r:{tracking}")]
        again = await say(d, HANDLER, f"/extend {number} 1 And more")
        assert again["text"] == f"An extension of {number} is already waiting for a decision."
        # A handler may not decide; the Refuse button asks a supervisor for the reason.
        assert await press(d, HANDLER, card, f"dl:g:{tracking}") == DENIED
        assert await press(d, SUPERVISOR, card, f"dl:r:{tracking}") == (
            f"Send /refuse {number} followed by the reason."
        )
        assert column(db_path, tracking, "extension_pending") == 1
        assert await press(d, SUPERVISOR, card, f"dl:g:{tracking}") == ""
        # 3 working days after Monday 10 March 10:00.
        new_due = sh(2025, 3, 13, 10)
        assert moment(db_path, tracking, "due_at") == new_due
        assert column(db_path, tracking, "extension_count") == 1
        assert column(db_path, tracking, "extension_pending") == 0
        assert moment(db_path, tracking, "escalated_at") is None  # no longer overdue
        told = (await sandbox.wait_for_messages(CITIZEN, 2, timeout=10))[-1]  # 1: accepted
        assert told["text"] == (
            f"The department needs more time for your request {number}: an "
            f"answer is now due by {shown(new_due)}."
        )
        granted = await staff_line(d, "Extension granted")
        assert granted == (
            f"Extension granted: {HEATING} now has until {shown(new_due)} for request {number}."
        )
        # Pressed again: nothing is pending any more.
        assert await press(d, SUPERVISOR, card, f"dl:g:{tracking}") == (
            "This request was already handled."
        )
        # A second request, refused by command: the department is told, the date stays.
        await say(d, HANDLER, f"/extend {number} 2 The bank is slow")
        queued = await say(d, SUPERVISOR, "/queue extensions")
        assert queued["text"].splitlines()[1].startswith(number)
        refused = await say(d, SUPERVISOR, f"/refuse {number} Two weeks is enough")
        assert refused["text"] == f"The extension of {number} was refused; the department is told."
        refusal = await staff_line(d, "Extension refused")
        assert refusal == (
            f"Extension refused for {HEATING} on request {number}. Reason: Two weeks is enough"
        )
        assert moment(db_path, tracking, "due_at") == new_due
        assert column(db_path, tracking, "extension_count") == 1
        nothing = await say(d, SUPERVISOR, f"/grant {number}")
        assert nothing["text"] == f"No extension of {number} is waiting for a decision."
        assert events(db_path, "extension_requested") == 2
        assert events(db_path, "extension_granted") == 1
        assert events(db_path, "extension_refused") == 1
        assert len(sandbox.messages(CITIZEN)) == 2  # accepted; the granted extension only


async def press(d: Desk, user: int, message: dict[str, Any], data: str) -> str:
    pressed = d.sandbox.press_button(user, d.staff, message["message_id"], data)
    return await answer_of(d.sandbox, pressed)


async def test_urgent_shortens_the_due_date(sandbox: Sandbox, db_path: Database) -> None:
    clock = ManualClock(sh(2025, 3, 3, 10))
    async with deadline_desk(sandbox, db_path, clock) as d:
        await add_team(d)
        tracking = await file(d, clock.now())
        await accept(d, tracking, clock.now())
        number = format_tracking_number(tracking)
        told = len(await sandbox.wait_for_messages(CITIZEN, 1, timeout=10))  # "accepted"
        assert (await say(d, HANDLER, f"/urgent {number} 4"))["text"] == DENIED
        at(clock, sh(2025, 3, 4, 9))
        done = await say(d, SUPERVISOR, f"/urgent {number} 4")
        due = sh(2025, 3, 4, 13)  # elapsed hours: urgent matters do not keep office hours
        assert done["text"] == (
            f"Request {number} is marked urgent; an answer is due by {shown(due)}."
        )
        assert moment(db_path, tracking, "due_at") == due
        assert column(db_path, tracking, "urgent") == 1
        citizen = await sandbox.wait_for_messages(CITIZEN, told + 1, timeout=10)
        assert citizen[-1]["text"] == (
            f"Your request {number} is now handled as urgent: an answer is due by {shown(due)}."
        )
        # A longer limit never gives more time: the date stays, the citizen hears nothing new.
        later = await say(d, SUPERVISOR, f"/urgent {number} 100")
        assert later["text"].endswith(f"an answer is due by {shown(due)}.")
        assert moment(db_path, tracking, "due_at") == due
        assert (await say(d, SUPERVISOR, f"/urgent {number} soon"))["text"] == (
            "Usage: /urgent <number> <hours>"
        )
        at(clock, sh(2025, 3, 4, 13, 1))
        assert await sweep(d) == {"deadline_escalate": 1, "deadline_overdue_list": 1}
        assert len(sandbox.messages(CITIZEN)) == told + 1


async def test_reopened_twice_is_a_repeat_case(sandbox: Sandbox, db_path: Database) -> None:
    clock = ManualClock(sh(2025, 3, 3, 10))
    async with deadline_desk(sandbox, db_path, clock) as d:
        await add_team(d)
        tracking = await file(d, clock.now())
        await accept(d, tracking, clock.now())

        async def answer() -> None:
            await submit_reply(tracking, REPLY, by=HANDLER, now=clock.now())
            await approve_reply(tracking, by=SUPERVISOR, now=clock.now())

        await answer()
        await reopen_case(tracking, by=ADMIN, now=clock.now())
        assert (
            column(db_path, tracking, "reopen_count"),
            column(db_path, tracking, "repeat"),
        ) == (1, 0)
        await answer()
        # The second reopen is the citizen's, unsatisfied with the answer.
        await rate_solved(tracking, CITIZEN, "not_solved", now=clock.now())
        await rate_satisfaction(tracking, CITIZEN, "unsatisfied", now=clock.now())
        await reopen_by_citizen(tracking, CITIZEN, now=clock.now(), staff_chat_id=None)
        assert (
            column(db_path, tracking, "reopen_count"),
            column(db_path, tracking, "repeat"),
        ) == (2, 1)
        listed = await say(d, SUPERVISOR, "/queue repeat")
        lines = listed["text"].splitlines()
        assert lines[0].startswith("Repeat requests (reopened twice or filed again): 1")
        assert lines[1].startswith(format_tracking_number(tracking))
