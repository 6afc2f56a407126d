"""Time limits a case lives by once accepted: urgent marks, extensions (延期), the pause while the
citizen is asked, and the repeat flag. The sweeps that act on them are in
storage.deadline_sweeps.

The clock's rules, in one place:
- The due date (`due_at`) is set at acceptance on the working calendar (storage.lifecycle).
- Urgent (`/urgent <number> <hours>`): due at the earlier of now + hours (elapsed: an urgent
  matter does not wait for Monday) and the current due date, so marking a case urgent never
  gives the department more time. The citizen is told only when the date moved.
- Pause: asking the citizen stops the clock (`paused_at`); when the case leaves
  awaiting_citizen the due date moves later by the elapsed time of the pause. Elapsed rather
  than working time, because the citizen sees and is promised calendar dates: a department
  never loses time it spent waiting, and the arithmetic stays plain.
- Extension: the lead department asks for N working days with a reason; a supervisor grants
  (the due date moves N working days on the calendar, the citizen is told) or refuses (the
  department is told). One request pending at a time.
- Whenever the due date moves, the sweep marks that no longer hold are cleared: the 75 %
  reminder if its point now lies after when it was sent, the escalation if the case is no
  longer overdue at the moment it was escalated.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from storage.lifecycle_core import (
    Snapshot,
    record,
    run_staff_action,
    tell_citizen,
    write_case,
)
from storage.models import Actor, Case, CaseStatus, Event
from storage.notice_queue import notify
from storage.staff import StaffAction, StaffView
from storage.work_calendar import WorkCalendar

REMIND_AT = 0.75  # the share of the time from acceptance to the due date before the reminder
REPEAT_AFTER_REOPENS = 2  # a case reopened this often is flagged for the coordination meeting
MAX_URGENT_HOURS = 720
MAX_EXTENSION_DAYS = 60
STAFF = Actor.STAFF


class DeadlineRefused(Exception):
    """A deadline action that does not fit the case now; nothing was changed."""

    def __init__(self, tracking: str, why: str) -> None:
        super().__init__(f"case {tracking}: {why}")
        self.tracking = tracking


class ExtensionAlreadyPending(DeadlineRefused):
    """An extension request on this case waits for a supervisor already."""


class ExtensionNotPending(DeadlineRefused):
    """No extension request on this case waits for a decision."""


class NoDueDate(DeadlineRefused):
    """The case has no due date to move (its category has no time limit)."""


def reminder_point(accepted_at: datetime, due: datetime) -> datetime:
    """When the 75 % reminder is due: that share of the way from acceptance to the due date."""
    return accepted_at + (due - accepted_at) * REMIND_AT


def marks_after_move(row: dict[str, Any], new_due: datetime) -> dict[str, Any]:
    """The sweep marks to clear when the due date becomes `new_due` (see the module's rules).

    `row` holds accepted_at, due_reminded_at and escalated_at as read.
    """
    changes: dict[str, Any] = {}
    reminded, escalated = row.get("due_reminded_at"), row.get("escalated_at")
    accepted = row.get("accepted_at")
    if reminded is not None and (accepted is None or reminder_point(accepted, new_due) > reminded):
        changes["due_reminded_at"] = None
    if escalated is not None and new_due > escalated:
        changes["escalated_at"] = None
    return changes


_CLOCK_COLUMNS = (
    "due_at",
    "accepted_at",
    "paused_at",
    "due_reminded_at",
    "escalated_at",
    "extension_pending",
    "extension_count",
    "urgent",
    "department__code",
)


async def clock_of(case_id: int) -> dict[str, Any]:
    """The case's clock columns, read in the caller's transaction."""
    row = await Case.filter(id=case_id).first().values(*_CLOCK_COLUMNS)
    return dict(row or {})


async def pause_changes(case_id: int, now: datetime) -> dict[str, Any]:
    """What stops the clock when the citizen is asked (kept if it is stopped already)."""
    row = await clock_of(case_id)
    return {} if row.get("paused_at") is not None else {"paused_at": now.astimezone(UTC)}


async def resume_changes(case_id: int, now: datetime) -> dict[str, Any]:
    """What restarts the clock when the case leaves awaiting_citizen, by any way.

    The due date moves later by the pause's elapsed time; the marks that no longer hold clear.
    """
    row = await clock_of(case_id)
    paused = row.get("paused_at")
    if paused is None:
        return {}
    changes: dict[str, Any] = {"paused_at": None}
    due = row.get("due_at")
    if due is not None and now > paused:
        new_due = due + (now - paused)
        changes["due_at"] = new_due
        changes.update(marks_after_move(row, new_due))
    return changes


def reopen_changes(reopens: int) -> dict[str, Any]:
    """The columns a reopen writes: the new count, and the repeat flag from the second on."""
    changes: dict[str, Any] = {"reopen_count": reopens}
    if reopens >= REPEAT_AFTER_REOPENS:
        changes["repeat"] = True
    return changes


async def mark_urgent(tracking: str, hours: int, *, by: int, now: datetime) -> datetime:
    """Mark a case urgent (督办 by a supervisor), due within `hours`; the due date it now has.

    Due at the earlier of now + hours and the current due date. Event "urgent" (private); the
    staff chat is not told here (the command answers in it); the citizen is told the new date
    ("case_due_changed", reason urgent) only if it moved. Raises ValueError for hours outside
    1..MAX_URGENT_HOURS, plus run_staff_action's errors.
    """
    if not 1 <= hours <= MAX_URGENT_HOURS:
        raise ValueError(f"hours must be 1..{MAX_URGENT_HOURS}")

    async def work(case: Snapshot, staff: StaffView, status: CaseStatus) -> datetime:
        row = await clock_of(case.id)
        current = row.get("due_at")
        wanted = (now + timedelta(hours=hours)).astimezone(UTC)  # stored times: all in UTC
        new_due = wanted if current is None or wanted < current else current
        moved = new_due != current
        changes: dict[str, Any] = {"urgent": True}
        if moved:
            changes.update(due_at=new_due, **marks_after_move(row, new_due))
        await write_case(case, now, status=status, **changes)
        await record(
            case,
            "urgent",
            actor=STAFF,
            actor_id=by,
            now=now,
            public=False,
            hours=hours,
            due_at=new_due.isoformat(),
            moved=moved,
        )
        if moved:
            await tell_citizen(
                case, "case_due_changed", now, due_at=new_due.isoformat(), reason="urgent"
            )
        return new_due

    return await run_staff_action(tracking, StaffAction.URGENT, by=by, now=now, work=work)


async def request_extension(
    tracking: str, days: int, reason: str, *, by: int, now: datetime, staff_chat_id: int | None
) -> str:
    """The lead department asks for `days` more working days (延期); the canonical number.

    extension_pending is set, event "extension_requested" (private: days, reason), and the
    staff chat gets "staff_extension_requested" with Grant and Refuse buttons. Raises
    ValueError (days outside 1..MAX_EXTENSION_DAYS, empty reason), ExtensionAlreadyPending,
    NoDueDate, plus run_staff_action's errors.
    """
    if not 1 <= days <= MAX_EXTENSION_DAYS:
        raise ValueError(f"days must be 1..{MAX_EXTENSION_DAYS}")
    if not reason.strip():
        raise ValueError("reason must not be empty")

    async def work(case: Snapshot, staff: StaffView, status: CaseStatus) -> str:
        row = await clock_of(case.id)
        if row.get("extension_pending"):
            raise ExtensionAlreadyPending(case.tracking, "an extension request is pending")
        if row.get("due_at") is None:
            raise NoDueDate(case.tracking, "no due date to extend")
        await write_case(case, now, status=status, extension_pending=True)
        await record(
            case,
            "extension_requested",
            actor=STAFF,
            actor_id=by,
            now=now,
            public=False,
            days=days,
            reason=reason,
        )
        if staff_chat_id is not None:
            await notify(
                staff_chat_id,
                "staff_extension_requested",
                {
                    "tracking": case.tracking,
                    "days": days,
                    "reason": reason,
                    "by": by,
                    "department": row.get("department__code"),
                    "due_at": row["due_at"].isoformat(),
                },
                now=now,
            )
        return case.tracking

    return await run_staff_action(
        tracking, StaffAction.REQUEST_EXTENSION, by=by, now=now, work=work
    )


async def grant_extension(
    tracking: str, *, by: int, now: datetime, calendar: WorkCalendar, staff_chat_id: int | None
) -> datetime:
    """A supervisor grants the pending extension; the new due date.

    The due date moves by the requested working days on `calendar`, extension_count + 1,
    event "extension_granted", the citizen told the new date ("case_due_changed", reason
    extension), the staff chat told ("staff_extension_granted"). Raises ExtensionNotPending.
    """

    async def work(case: Snapshot, staff: StaffView, status: CaseStatus) -> datetime:
        row = await clock_of(case.id)
        if not row.get("extension_pending"):
            raise ExtensionNotPending(case.tracking, "no extension request is pending")
        days = await _requested_days(case)
        new_due = calendar.due(row["due_at"], hours=None, working_days=days)
        await write_case(
            case,
            now,
            status=status,
            due_at=new_due,
            extension_pending=False,
            extension_count=int(row["extension_count"]) + 1,
            **marks_after_move(row, new_due),
        )
        iso = new_due.isoformat()
        await record(
            case,
            "extension_granted",
            actor=STAFF,
            actor_id=by,
            now=now,
            public=False,
            days=days,
            due_at=iso,
        )
        await tell_citizen(case, "case_due_changed", now, due_at=iso, reason="extension")
        if staff_chat_id is not None:
            await notify(
                staff_chat_id,
                "staff_extension_granted",
                {
                    "tracking": case.tracking,
                    "days": days,
                    "due_at": iso,
                    "department": row.get("department__code"),
                },
                now=now,
            )
        return new_due

    return await run_staff_action(
        tracking, StaffAction.DECIDE_EXTENSION, by=by, now=now, work=work
    )


async def refuse_extension(
    tracking: str, reason: str, *, by: int, now: datetime, staff_chat_id: int | None
) -> str:
    """A supervisor refuses the pending extension with a reason; the department is told in the
    staff chat ("staff_extension_refused"). The due date stays. Raises ExtensionNotPending."""
    if not reason.strip():
        raise ValueError("reason must not be empty")

    async def work(case: Snapshot, staff: StaffView, status: CaseStatus) -> str:
        row = await clock_of(case.id)
        if not row.get("extension_pending"):
            raise ExtensionNotPending(case.tracking, "no extension request is pending")
        await write_case(case, now, status=status, extension_pending=False)
        await record(
            case,
            "extension_refused",
            actor=STAFF,
            actor_id=by,
            now=now,
            public=False,
            reason=reason,
        )
        if staff_chat_id is not None:
            await notify(
                staff_chat_id,
                "staff_extension_refused",
                {
                    "tracking": case.tracking,
                    "reason": reason,
                    "department": row.get("department__code"),
                },
                now=now,
            )
        return case.tracking

    return await run_staff_action(
        tracking, StaffAction.DECIDE_EXTENSION, by=by, now=now, work=work
    )


async def _requested_days(case: Snapshot) -> int:
    latest = (
        await Event.filter(case_id=case.id, kind="extension_requested")
        .order_by("-id")
        .first()
        .values("payload")
    )
    if latest is None:
        raise ExtensionNotPending(case.tracking, "the request is missing")
    return int(latest["payload"]["days"])
