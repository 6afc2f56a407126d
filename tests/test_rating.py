"""The callback (回访) end to end through the sandbox: the answer with its rating buttons, closing
on a good rating, reopening on a bad one, presses that come twice or name someone else's case,
and the sweeps that remind once and close without feedback."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.clock import Clock, ManualClock
from bot.sandbox import Sandbox
from bot.sweeps import all_sweeps
from storage.citizens import choose_language
from storage.lifecycle import accept_case, submit_reply
from storage.tracking import format_tracking_number
from tests.databases import Database
from tests.following import OPEN_SENDS, Desk, buttons
from tests.harness import eventually, query, running_bot, settings_for

ADMIN, CITIZEN, OTHER = 73_001, 73_002, 73_003
REPLY = "We repaired the valve in your building; the heating is back on."
SOLVED_BUTTONS = ["solved", "partly", "not_solved"]


@contextlib.asynccontextmanager
async def rating_desk(
    sandbox: Sandbox, db_path: Database, clock: Clock | None = None
) -> AsyncIterator[Desk]:
    settings = settings_for(sandbox, db_path, MINSHENG_ADMIN_IDS=str(ADMIN))
    async with running_bot(settings, clock) as runtime:
        yield Desk(sandbox, runtime, db_path)
        await eventually(lambda: not query(db_path, OPEN_SENDS), 20, what="sends recorded")


async def answered(d: Desk, citizen: int, now: datetime | None = None) -> tuple[str, Any]:
    """A case filed, accepted and answered through storage (an admin's reply needs no review);
    the answer's message."""
    now = now or datetime.now(UTC)
    case = await d.file_case(citizen, at=now)
    zone = d.runtime.services.settings.zone
    await accept_case(case.tracking, "heating-company", by=ADMIN, now=now, zone=zone)
    await submit_reply(case.tracking, REPLY, by=ADMIN, now=now)
    message = (await d.sandbox.wait_for_messages(citizen, 2, timeout=10))[-1]
    return case.tracking, message


async def answer_of(sandbox: Sandbox, update: dict[str, Any]) -> str:
    query_id = update["callback_query"]["id"]
    answers = sandbox.callback_answers
    found = await eventually(lambda: answers.get(query_id), 10, what="the button's answer")
    return str(found.get("text") or "")


async def press(d: Desk, user: int, message_id: int, data: str) -> str:
    """Press (or forge) a button in the user's own chat; the text it was answered with."""
    return await answer_of(
        d.sandbox, d.sandbox.press_button(user, user, message_id, data, force=True)
    )


def status(db_path: Database, tracking: str) -> str:
    return str(
        query(db_path, "SELECT status FROM service_case WHERE tracking = ?", (tracking,))[0][0]
    )


def as_utc(value: Any) -> datetime:
    """A datetime as the database returned it (text on SQLite), in UTC."""
    found = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return found.astimezone(UTC)


def ratings(db_path: Database) -> list[tuple[Any, ...]]:
    return query(db_path, "SELECT solved, satisfaction, comment, citizen_id FROM case_rating")


async def test_rated_satisfied_closes_the_case(sandbox: Sandbox, db_path: Database) -> None:
    async with rating_desk(sandbox, db_path) as d:
        tracking, answer = await answered(d, CITIZEN)
        number = format_tracking_number(tracking)
        assert answer["text"] == (
            f"The answer to your request {number}:\n\n{REPLY}\n\nWas your problem solved?"
        )
        assert answer.get("parse_mode") is None
        assert buttons(answer) == [
            (label, f"rt:s:{tracking}:{code}")
            for label, code in zip(["Solved", "Partly", "Not solved"], SOLVED_BUTTONS, strict=True)
        ]
        second = await d.press_edit(CITIZEN, answer, f"rt:s:{tracking}:solved")
        assert buttons(second) == [
            ("Satisfied", f"rt:f:{tracking}:satisfied"),
            ("Basically satisfied", f"rt:f:{tracking}:basic"),
            ("Unsatisfied", f"rt:f:{tracking}:unsatisfied"),
        ]
        third = await d.press_edit(CITIZEN, answer, f"rt:f:{tracking}:satisfied")
        assert [data for _, data in buttons(third)] == [
            f"rt:c:{tracking}:{code}" for code in ("quick", "clear", "polite", "skip")
        ]
        assert status(db_path, tracking) == "closed"
        assert ratings(db_path) == [("solved", "satisfied", None, CITIZEN)]
        closed = (await sandbox.wait_for_messages(CITIZEN, 3, timeout=10))[-1]
        assert closed["text"] == f"Your request {number} is closed. Thank you."
        # The same press again (a double tap): counted once, nothing changes.
        again = await press(d, CITIZEN, answer["message_id"], f"rt:f:{tracking}:unsatisfied")
        assert again == "Your rating was already recorded."
        again = await press(d, CITIZEN, answer["message_id"], f"rt:s:{tracking}:not_solved")
        assert again == "Your rating was already recorded."
        done = await d.press_edit(CITIZEN, answer, f"rt:c:{tracking}:quick")
        assert buttons(done) == []
        assert ratings(db_path) == [("solved", "satisfied", "Quick and helpful", CITIZEN)]
        # A comment is added once; a second does not replace it, and a complaint offered only
        # after "unsatisfied" (a forged or stale button) is refused.
        assert await press(d, CITIZEN, answer["message_id"], f"rt:c:{tracking}:polite") == ""
        assert await press(d, CITIZEN, answer["message_id"], f"rt:c:{tracking}:slow") == (
            "This button has expired."
        )
        assert ratings(db_path) == [("solved", "satisfied", "Quick and helpful", CITIZEN)]
        events = query(
            db_path,
            "SELECT kind, actor FROM case_event WHERE kind IN ('rated', 'closed') ORDER BY id",
        )
        assert events == [("rated", "citizen"), ("closed", "citizen")]


async def test_unsatisfied_reopens_and_staff_are_told(sandbox: Sandbox, db_path: Database) -> None:
    async with rating_desk(sandbox, db_path) as d:
        tracking, answer = await answered(d, CITIZEN)
        await choose_language(CITIZEN, "zh_Hans")
        await d.press_edit(CITIZEN, answer, f"rt:s:{tracking}:not_solved")
        offered = await d.press_edit(CITIZEN, answer, f"rt:f:{tracking}:unsatisfied")
        assert buttons(offered)[0] == ("重新办理此诉求", f"rt:r:{tracking}")
        assert status(db_path, tracking) == "answered"
        # Skip the comment: only Reopen stays.
        skipped = await d.press_edit(CITIZEN, answer, f"rt:c:{tracking}:skip")
        assert buttons(skipped) == [("重新办理此诉求", f"rt:r:{tracking}")]
        staff_before = len(sandbox.messages(d.staff))
        # Reopen asks for the reason first; the case goes back only once it comes.
        asked = await d.press_edit(CITIZEN, answer, f"rt:r:{tracking}")
        assert buttons(asked) == [("取消", f"rt:k:{tracking}")]
        assert status(db_path, tracking) == "answered"
        sandbox.send_text(CITIZEN, "暖气还是不热。")
        await eventually(lambda: status(db_path, tracking) == "in_progress", 10, what="reopened")
        row = query(db_path, "SELECT status, reopen_count, answered_at FROM service_case")
        assert row == [("in_progress", 1, None)]
        number = format_tracking_number(tracking)
        told = (await sandbox.wait_for_messages(CITIZEN, 3, timeout=10))[-1]
        assert told["text"] == f"您的诉求 {number} 已重新办理。"
        staff = await sandbox.wait_for_messages(d.staff, staff_before + 1, timeout=10)
        assert staff[-1]["text"] == (
            f"Request {number} was reopened by the citizen, who was not satisfied with the answer."
            " Their reason: “暖气还是不热。”"
        )
        # Pressed twice: the case is no longer answered, so nothing more happens.
        assert await press(d, CITIZEN, answer["message_id"], f"rt:r:{tracking}") != ""
        assert query(db_path, "SELECT reopen_count FROM service_case") == [(1,)]
        assert query(db_path, "SELECT count(*) FROM case_event WHERE kind = 'reopened'") == [(1,)]
        # Answered again: the same rating row is rated afresh, and this time it closes.
        now = datetime.now(UTC)
        await submit_reply(tracking, REPLY + " Checked again.", by=ADMIN, now=now)
        second = (await sandbox.wait_for_messages(CITIZEN, 4, timeout=10))[-1]
        await d.press_edit(CITIZEN, second, f"rt:s:{tracking}:solved")
        await d.press_edit(CITIZEN, second, f"rt:f:{tracking}:basic")
        assert status(db_path, tracking) == "closed"
        assert ratings(db_path) == [("solved", "basic", None, CITIZEN)]


async def test_foreign_and_unanswered_cases_are_refused(
    sandbox: Sandbox, db_path: Database
) -> None:
    async with rating_desk(sandbox, db_path) as d:
        tracking, answer = await answered(d, CITIZEN)
        refused = "This request cannot be rated now."
        # Someone else forging the buttons of this case: refused, nothing changes.
        for data in (
            f"rt:s:{tracking}:solved",
            f"rt:f:{tracking}:satisfied",
            f"rt:c:{tracking}:quick",
            f"rt:r:{tracking}",
        ):
            assert await press(d, OTHER, 1, data) == refused, data
        # The satisfaction question before the first one: refused too.
        assert await press(d, CITIZEN, answer["message_id"], f"rt:f:{tracking}:satisfied") == (
            refused
        )
        # A case of one's own that is not answered yet.
        early = await d.file_case(CITIZEN)
        assert await press(d, CITIZEN, 1, f"rt:s:{early.tracking}:solved") == refused
        assert await press(d, CITIZEN, 1, f"rt:f:{early.tracking}:satisfied") == refused
        # Data that fits no pattern has expired.
        assert await press(d, CITIZEN, 1, f"rt:f:{tracking}:ecstatic") == (
            "This button has expired."
        )
        assert ratings(db_path) == []
        assert status(db_path, tracking) == "answered"
        assert status(db_path, early.tracking) == "submitted"
        kinds = query(
            db_path,
            "SELECT count(*) FROM case_event WHERE actor = 'citizen' AND kind != 'submitted'",
        )
        assert kinds == [(0,)]


async def test_sweeps_remind_once_then_close_without_feedback(
    sandbox: Sandbox, db_path: Database
) -> None:
    # Every sweep runs, as the bot runs them: the reminder also queues the answer for a clerk's
    # callback (回访), which nobody makes here; the answer still closes, 7 days after the
    # callback was due. Monday 10:00 in Shanghai, a week without holidays.
    clock = ManualClock(datetime(2025, 3, 3, 10, tzinfo=ZoneInfo("Asia/Shanghai")))
    start = clock.now()
    async with rating_desk(sandbox, db_path, clock) as d:
        tracking, _ = await answered(d, CITIZEN, start)
        sweeps = all_sweeps(d.runtime.services)
        ours = ("rating_close", "rating_remind", "callback_queue")

        async def sweep(at: timedelta) -> dict[str, int]:
            clock.advance(start + at - clock.now())
            done = {name: await run(clock.now()) for name, run in sweeps.items()}
            d.runtime.sender.wake()
            return {name: count for name, count in done.items() if count and name in ours}

        number = format_tracking_number(tracking)
        assert await sweep(timedelta(days=2)) == {}
        reminded = {"rating_remind": 1, "callback_queue": 1}
        assert await sweep(timedelta(days=3, hours=1)) == reminded
        assert await sweep(timedelta(days=4)) == {}  # one reminder, however often it runs
        reminder = (await sandbox.wait_for_messages(CITIZEN, 3, timeout=10))[-1]
        assert reminder["text"] == (
            f"Please rate the answer to your request {number}. Was your problem solved?"
        )
        assert [data for _, data in buttons(reminder)] == [
            f"rt:s:{tracking}:{code}" for code in SOLVED_BUTTONS
        ]
        # Queued for a callback on Friday: open while a clerk may still call, 7 days from then.
        sql = "SELECT callback_due_at FROM service_case WHERE tracking = ?"
        due = as_utc(query(db_path, sql, (tracking,))[0][0])
        assert due == datetime(2025, 3, 7, 9, tzinfo=ZoneInfo("Asia/Shanghai"))
        assert await sweep(timedelta(days=7, hours=1)) == {}
        assert await sweep(due - start + timedelta(days=6)) == {}
        assert status(db_path, tracking) == "answered"
        assert await sweep(due - start + timedelta(days=7, hours=1)) == {"rating_close": 1}
        closed = (await sandbox.wait_for_messages(CITIZEN, 4, timeout=10))[-1]
        assert closed["text"] == f"Your request {number} was closed without feedback."
        assert status(db_path, tracking) == "closed"
        assert await sweep(due - start + timedelta(days=9)) == {}
        # Too late to rate now.
        late = await press(d, CITIZEN, reminder["message_id"], f"rt:s:{tracking}:solved")
        assert late == "This request cannot be rated now."
        events = query(
            db_path,
            "SELECT kind, actor, payload FROM case_event WHERE kind IN "
            "('rating_reminder', 'closed') ORDER BY id",
        )
        assert [(kind, actor) for kind, actor, _ in events] == [
            ("rating_reminder", "system"),
            ("closed", "system"),
        ]
        assert "no_feedback" in events[-1][2]
