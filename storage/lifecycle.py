"""The case lifecycle for staff: route, reject, transfer, merge, close and reopen a case.

The questions, answers and replies are in storage.lifecycle_replies and re-exported here, so
callers import everything from this module. Each operation is one transaction that authorizes
the staff member (storage.staff), checks the move in lifecycle_core.TRANSITIONS, writes the case
guarded by its version, an event (actor: the staff member) and the citizen's notice.

Status path: submitted → accepted → in_progress ⇄ awaiting_citizen → answered → closed, with
reopen → in_progress; rejected and merged are ends. A case stays "accepted" (signed for) until
its first work action (a question or a reply), which puts it in progress.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from storage.case_views import END_STATUSES, CaseNotFound, CaseView
from storage.deadlines import reopen_changes
from storage.due_dates import due_at
from storage.followers import follow_merged
from storage.lifecycle_core import CITIZEN_ANSWER as CITIZEN_ANSWER
from storage.lifecycle_core import TRANSITIONS as TRANSITIONS
from storage.lifecycle_core import CaseChangedMeanwhile as CaseChangedMeanwhile
from storage.lifecycle_core import ReplyAlreadyPending as ReplyAlreadyPending
from storage.lifecycle_core import ReplyNotPending as ReplyNotPending
from storage.lifecycle_core import (
    Snapshot,
    TransitionRefused,
    department_id,
    load_case,
    record,
    run_staff_action,
    tell_citizen,
    view_of,
    write_case,
)
from storage.lifecycle_core import possible as possible
from storage.lifecycle_replies import ReplyView as ReplyView
from storage.lifecycle_replies import approve_reply as approve_reply
from storage.lifecycle_replies import ask_citizen as ask_citizen
from storage.lifecycle_replies import citizen_adds as citizen_adds
from storage.lifecycle_replies import citizen_answered as citizen_answered
from storage.lifecycle_replies import return_reply as return_reply
from storage.lifecycle_replies import submit_reply as submit_reply
from storage.models import Actor, Case, CaseStatus, Category
from storage.reply_templates import auto_reply_facts
from storage.routing import (
    DEFAULT_SIGN_HOURS,
    co_department_ids,
    counted_transfer,
    routed,
    sign_window,
)
from storage.staff import StaffAction, StaffNotAuthorized, StaffView, check
from storage.work_calendar import WorkCalendar

__all__ = ["TransitionRefused"]

STAFF = Actor.STAFF


class MergeRefused(Exception):
    """A case cannot be merged into that one: one of the two is missing or not the staff
    member's, or the target is the case itself or has ended. Nothing was changed."""

    def __init__(self, tracking: str, into: str) -> None:
        super().__init__(f"case {tracking} cannot be merged into {into}")
        self.tracking = tracking
        self.into = into


async def accept_case(
    tracking: str,
    department_code: str,
    *,
    by: int,
    now: datetime,
    zone: ZoneInfo,
    sign_hours: float = DEFAULT_SIGN_HOURS,
    co_handling: Sequence[str] = (),
    staff_chat_id: int | None = None,
    calendar: WorkCalendar | None = None,
) -> CaseView:
    """Accept a submitted case into a department; the due date runs from `now`.

    The limit is the category's (hours, or working days on `calendar`, with its holidays and
    make-up days; without one, Monday to Friday in `zone`); a category without one leaves no
    due date. The citizen is told ("case_accepted": department, due_at; with `auto_reply`,
    the code of the category's automatic first reply on its first acceptance). The lead
    department is to sign for it within `sign_hours`; `co_handling` departments join it, and
    the staff chat is told (storage.routing.routed).
    """
    target = await department_id(department_code)
    co = await co_department_ids(tracking, co_handling, lead=target)

    async def work(case: Snapshot, staff: StaffView, status: CaseStatus) -> CaseView:
        limits = (
            await Category.filter(id=case.category_id)
            .first()
            .values("time_limit_hours", "time_limit_working_days")
        )
        hours, days = limits["time_limit_hours"], limits["time_limit_working_days"]
        due = None
        if hours is not None or days is not None:
            due = (
                calendar.due(now, hours=hours, working_days=days)
                if calendar is not None
                else due_at(now, hours=hours, working_days=days, zone=zone)
            )
        window = sign_window(now, sign_hours)
        fresh = {"due_reminded_at": None, "escalated_at": None}  # a new deadline, unswept
        await write_case(
            case,
            now,
            status=status,
            department_id=target,
            accepted_at=now,
            due_at=due,
            **window,
            **fresh,
        )
        iso = due.isoformat() if due else None
        auto = await auto_reply_facts(case.id, case.category_id)  # its first reply, once
        await record(
            case,
            "accepted",
            actor=STAFF,
            actor_id=by,
            now=now,
            public=True,
            department=department_code,
            due_at=iso,
            **auto,
        )
        await tell_citizen(
            case, "case_accepted", now, department=department_code, due_at=iso, **auto
        )
        await routed(
            case,
            department_code,
            co,
            by=by,
            now=now,
            sign_due_at=window["sign_due_at"],
            staff_chat_id=staff_chat_id,
        )
        return await view_of(case)

    return await run_staff_action(
        tracking, StaffAction.ACCEPT, by=by, now=now, work=work, targets=(target, *co.values())
    )


async def reject_case(tracking: str, reason: str, *, by: int, now: datetime) -> CaseView:
    """Decline a case (不予受理) with a reason the citizen is told ("case_rejected")."""
    _require_text(reason, "reason")

    async def work(case: Snapshot, staff: StaffView, status: CaseStatus) -> CaseView:
        await write_case(case, now, status=status, closed_at=now)
        await record(
            case, "rejected", actor=STAFF, actor_id=by, now=now, public=True, reason=reason
        )
        await tell_citizen(case, "case_rejected", now, reason=reason)
        return await view_of(case)

    return await run_staff_action(tracking, StaffAction.REJECT, by=by, now=now, work=work)


async def transfer_case(
    tracking: str,
    department_code: str,
    reason: str,
    *,
    by: int,
    now: datetime,
    sign_hours: float = DEFAULT_SIGN_HOURS,
    staff_chat_id: int | None = None,
) -> CaseView:
    """Move an accepted case to another department (counted); it is signed for afresh there.

    The due date is kept: the citizen's clock does not restart because of a misrouting.
    An internal event only; the citizen is not told.
    """
    _require_text(reason, "reason")
    target = await department_id(department_code)

    async def work(case: Snapshot, staff: StaffView, status: CaseStatus) -> CaseView:
        if case.department_id == target:
            raise TransitionRefused(case.tracking, case.status, "transfer", "same department")
        counted = await counted_transfer(case, by=by, now=now, staff_chat_id=staff_chat_id)
        window = sign_window(now, sign_hours)
        await write_case(case, now, status=status, department_id=target, **counted, **window)
        await record(
            case,
            "transferred",
            actor=STAFF,
            actor_id=by,
            now=now,
            public=False,
            department=department_code,
            reason=reason,
        )
        await routed(
            case,
            department_code,
            {},
            by=by,
            now=now,
            sign_due_at=window["sign_due_at"],
            staff_chat_id=staff_chat_id,
        )
        return await view_of(case)

    return await run_staff_action(
        tracking, StaffAction.TRANSFER, by=by, now=now, work=work, targets=(target,)
    )


async def close_case(
    tracking: str, *, by: int, now: datetime, reason: str | None = None
) -> CaseView:
    """Close an answered case (办结); the citizen is told ("case_closed"). The staff member's
    reason, when given, is the event's text (for staff: the citizen's notice does not carry it).
    """
    details = {"text": reason} if reason else {}

    async def work(case: Snapshot, staff: StaffView, status: CaseStatus) -> CaseView:
        await write_case(case, now, status=status, closed_at=now)
        await record(case, "closed", actor=STAFF, actor_id=by, now=now, public=True, **details)
        await tell_citizen(case, "case_closed", now)
        return await view_of(case)

    return await run_staff_action(tracking, StaffAction.CLOSE, by=by, now=now, work=work)


async def merge_case(tracking: str, into: str, *, by: int, now: datetime) -> CaseView:
    """Merge a duplicate into an open case (并案); the citizen is told ("case_merged": into).

    The merged case's citizen and followers follow `into` from then on (storage.followers): told
    when it moves, never given its answer, which is written to its own citizen.

    The staff member must be allowed to merge on both cases. Raises MergeRefused, with the same
    words for every reason, when either case is not theirs (audited), when either is missing,
    and when `into` is the case itself or has ended: telling these apart would tell a supervisor
    of one department which numbers exist elsewhere and how they stand.
    """

    async def work(case: Snapshot, staff: StaffView, status: CaseStatus) -> CaseView:
        other = await load_case(into)
        if other is None or other.id == case.id:
            raise MergeRefused(tracking, into)
        await check(by, StaffAction.MERGE, (other.scope,), tracking=other.tracking)
        if other.status in END_STATUSES:
            raise MergeRefused(tracking, into)
        # An end: the clock stopped for the citizen's answer has nothing left to time.
        await write_case(
            case, now, status=status, duplicate_of_id=other.id, closed_at=now, paused_at=None
        )
        await record(
            case, "merged", actor=STAFF, actor_id=by, now=now, public=True, into=other.tracking
        )
        await tell_citizen(case, "case_merged", now, into=other.tracking)
        await follow_merged(case.id, other.id, now=now)  # they follow the case it went into
        return await view_of(case)

    try:
        # A denial on either case is audited by run_staff_action, after its rollback.
        return await run_staff_action(tracking, StaffAction.MERGE, by=by, now=now, work=work)
    except StaffNotAuthorized as denied:
        if denied.reason != "department":  # not staff, or a role that never merges
            raise
        raise MergeRefused(tracking, into) from None
    except CaseNotFound:
        raise MergeRefused(tracking, into) from None


async def reopen_case(tracking: str, *, by: int, now: datetime) -> CaseView:
    """Reopen an answered or closed case in its department (counted); the citizen is told."""

    async def work(case: Snapshot, staff: StaffView, status: CaseStatus) -> CaseView:
        reopens = await _count(case, "reopen_count")
        await write_case(
            case,
            now,
            status=status,
            answered_at=None,
            closed_at=None,
            **reopen_changes(reopens + 1),
        )
        await record(case, "reopened", actor=STAFF, actor_id=by, now=now, public=True)
        await tell_citizen(case, "case_reopened", now)
        return await view_of(case)

    return await run_staff_action(tracking, StaffAction.REOPEN, by=by, now=now, work=work)


async def _count(case: Snapshot, column: str) -> int:
    # Read in the same transaction; the version guard makes a lost increment impossible.
    row = await Case.filter(id=case.id).first().values(column)
    return int(row[column]) if row else 0


def _require_text(text: str, name: str) -> None:
    if not text.strip():
        raise ValueError(f"{name} must not be empty")
