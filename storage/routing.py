"""Routing like a hotline: the lead department signs for a case (签收) within a limit, or
returns it as misrouted (退单) to the supervisors, who route it again (改派); co-handling
departments (协办) join a case to see it and add their input as notes.

Each operation is one transaction through lifecycle_core.run_staff_action (authorized in
storage.staff, the move checked in TRANSITIONS, the case written under its version guard, a
private event with the actor, and the staff chat's notices). The helpers below it
(`sign_window`, `counted_transfer`, `routed`, `signed_by_work`) are the parts that accept,
transfer, ask and reply share, so that routing reads the same wherever it happens.

Decisions: the sign-for limit runs in elapsed hours from routing (not working hours), and a
transfer starts it afresh for the new department. A first question or reply on a routed case
that nobody signed for signs it implicitly (signed_at set; the question or reply is the
event): the case is being worked, so it can no longer be sent back. A case passed on more
than HAND_ROUTING_AFTER times (transfers and returns together) is flagged route_by_hand and
the staff chat is told; the flag stays, for the record and for `/queue hand`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from tortoise.transactions import in_transaction

from storage.case_views import CaseNotFound
from storage.lifecycle_core import (
    Snapshot,
    TransitionRefused,
    department_id,
    record,
    run_staff_action,
    write_case,
)
from storage.models import Actor, Case, CaseStatus, CoHandling, Department
from storage.notice_queue import notify
from storage.proposals import record_outcome
from storage.staff import StaffAction, StaffView
from storage.tracking import canonical_or_none

DEFAULT_SIGN_HOURS = 2.0
HAND_ROUTING_AFTER = 2  # passes between departments; one more and a supervisor routes by hand

STAFF = Actor.STAFF


class AlreadySigned(TransitionRefused):
    """The lead department signed for this case already; nothing was changed."""


class CoHandlingRefused(Exception):
    """That department leads the case, or co-handles it already (or is named twice)."""

    def __init__(self, tracking: str, department: str) -> None:
        super().__init__(f"case {tracking}: {department} leads or co-handles it already")
        self.tracking = tracking
        self.department = department


@dataclass(frozen=True)
class RoutingView:
    """Where a case stands in routing: who leads, who co-handles, and the sign-for times."""

    tracking: str
    status: CaseStatus
    lead_code: str | None
    co_codes: tuple[str, ...]
    signed_at: datetime | None
    sign_due_at: datetime | None
    transfer_count: int
    route_by_hand: bool


async def routing_of(tracking: str) -> RoutingView:
    """A case's routing; CaseNotFound. Staff only: callers authorize VIEW first."""
    number = canonical_or_none(tracking)
    async with in_transaction():
        row = (
            await Case.filter(tracking=number or "")
            .first()
            .values(
                "id",
                "tracking",
                "status",
                "department__code",
                "signed_at",
                "sign_due_at",
                "transfer_count",
                "route_by_hand",
            )
        )
        if row is None:
            raise CaseNotFound(tracking)
        co = await _co_codes(int(row["id"]))
    return RoutingView(
        tracking=row["tracking"],
        status=CaseStatus(row["status"]),
        lead_code=row["department__code"],
        co_codes=co,
        signed_at=row["signed_at"],
        sign_due_at=row["sign_due_at"],
        transfer_count=int(row["transfer_count"]),
        route_by_hand=bool(row["route_by_hand"]),
    )


async def sign_for(tracking: str, *, by: int, now: datetime) -> RoutingView:
    """The lead department signs for a routed case (签收): a private event "signed".

    Raises AlreadySigned, TransitionRefused when the case is not waiting to be signed for
    (not routed, or already worked), StaffNotAuthorized (another department), CaseNotFound.
    """

    async def work(case: Snapshot, staff: StaffView, status: CaseStatus) -> RoutingView:
        row = await _row(case, "signed_at", "sign_due_at", "department__code")
        if row["signed_at"] is not None:
            raise AlreadySigned(case.tracking, case.status, "sign", "signed already")
        await write_case(case, now, status=status, signed_at=now)
        due = row["sign_due_at"]
        await record(
            case,
            "signed",
            actor=STAFF,
            actor_id=by,
            now=now,
            public=False,
            department=row["department__code"],
            on_time=due is None or now <= due,
        )
        return await routing_of(case.tracking)

    return await run_staff_action(tracking, StaffAction.SIGN, by=by, now=now, work=work)


async def send_back(
    tracking: str, reason: str, *, by: int, now: datetime, staff_chat_id: int | None = None
) -> RoutingView:
    """The lead department returns a case as misrouted (退单), with a reason.

    Allowed while the case is accepted (signed for or not, not yet worked). The case is
    submitted again without a department, its co-handling departments and sign-for times
    cleared, and counted as a transfer; the supervisors are told in the staff chat
    ("staff_case_sent_back": department, reason) to route it again.
    """
    if not reason.strip():
        raise ValueError("reason must not be empty")

    async def work(case: Snapshot, staff: StaffView, status: CaseStatus) -> RoutingView:
        row = await _row(case, "department__code")
        counted = await counted_transfer(case, by=by, now=now, staff_chat_id=staff_chat_id)
        await write_case(
            case,
            now,
            status=status,
            department_id=None,
            signed_at=None,
            sign_due_at=None,
            **counted,
        )
        await CoHandling.filter(case_id=case.id).delete()
        department = row["department__code"]
        await record(
            case,
            "sent_back",
            actor=STAFF,
            actor_id=by,
            now=now,
            public=False,
            department=department,
            reason=reason,
        )
        if staff_chat_id is not None:
            facts = {"tracking": case.tracking, "department": department, "reason": reason}
            await notify(staff_chat_id, "staff_case_sent_back", facts, now=now)
        return await routing_of(case.tracking)

    return await run_staff_action(tracking, StaffAction.SEND_BACK, by=by, now=now, work=work)


async def co_handle(
    tracking: str,
    department_code: str,
    *,
    by: int,
    now: datetime,
    staff_chat_id: int | None = None,
) -> RoutingView:
    """A supervisor adds a co-handling department (协办) to a routed, open case.

    Raises DepartmentNotFound, CoHandlingRefused (the lead itself, or already co-handling),
    TransitionRefused (not routed, or ended), StaffNotAuthorized. The staff chat is told
    ("staff_case_co_handling").
    """
    target = await department_id(department_code)

    async def work(case: Snapshot, staff: StaffView, status: CaseStatus) -> RoutingView:
        await _add_co_handlers(
            case, {department_code: target}, lead=case.department_id, by=by, now=now
        )
        await write_case(case, now, status=status)  # the version guard: one of two wins
        if staff_chat_id is not None:
            facts = {"tracking": case.tracking, "department": department_code}
            await notify(staff_chat_id, "staff_case_co_handling", facts, now=now)
        return await routing_of(case.tracking)

    return await run_staff_action(
        tracking, StaffAction.CO_HANDLE, by=by, now=now, work=work, targets=(target,)
    )


# -- What routing (accept, transfer), returning and working a case share --------------------


def sign_window(now: datetime, hours: float) -> dict[str, Any]:
    """The case's columns when it is routed: not signed for, due to be within `hours`."""
    if hours <= 0:
        raise ValueError("the sign-for limit must be positive")
    return {"signed_at": None, "sign_due_at": now + timedelta(hours=hours)}


async def co_department_ids(tracking: str, codes: Sequence[str], *, lead: int) -> dict[str, int]:
    """Co-handling departments by code, checked: active, not the lead, each once.

    Raises DepartmentNotFound (its code as the argument) or CoHandlingRefused; call it before
    the operation's transaction, like the lead department's own look-up.
    """
    found: dict[str, int] = {}
    for code in codes:
        dept = await department_id(code)
        if dept == lead or code in found:
            raise CoHandlingRefused(tracking, code)
        found[code] = dept
    return found


async def routed(
    case: Snapshot,
    lead_code: str,
    co: dict[str, int],
    *,
    by: int,
    now: datetime,
    sign_due_at: datetime,
    staff_chat_id: int | None,
) -> None:
    """After a case was routed to `lead_code`: add the co-handling departments and tell the
    staff chat ("staff_case_routed": department, co, sign_due_at) with Sign for · Send back."""
    lead = await department_id(lead_code)
    await CoHandling.filter(case_id=case.id, department_id=lead).delete()  # now it leads
    await record_outcome(case.id, case.proposed_department_id, lead)  # as proposed, or not
    await _add_co_handlers(case, co, lead=lead, by=by, now=now)
    if staff_chat_id is not None:
        facts = {
            "tracking": case.tracking,
            "department": lead_code,
            "co": list(await _co_codes(case.id)),
            "sign_due_at": sign_due_at.isoformat(),
        }
        await notify(staff_chat_id, "staff_case_routed", facts, now=now)


async def counted_transfer(
    case: Snapshot, *, by: int, now: datetime, staff_chat_id: int | None
) -> dict[str, Any]:
    """The case's columns for one more pass between departments (a transfer or a return).

    Past HAND_ROUTING_AFTER the case is flagged route_by_hand, with a private event, and the
    staff chat is told ("staff_case_route_by_hand": count) that a supervisor must route it.
    """
    row = await _row(case, "transfer_count", "route_by_hand")
    count = int(row["transfer_count"]) + 1
    if count <= HAND_ROUTING_AFTER:  # the handler (承办人) was the old department's: cleared
        return {"transfer_count": count, "handler_id": None}
    if not row["route_by_hand"]:
        await record(
            case, "route_by_hand", actor=STAFF, actor_id=by, now=now, public=False, transfers=count
        )
    if staff_chat_id is not None:
        facts = {"tracking": case.tracking, "count": count}
        await notify(staff_chat_id, "staff_case_route_by_hand", facts, now=now)
    return {"transfer_count": count, "route_by_hand": True, "handler_id": None}


async def signed_by_work(case: Snapshot, *, now: datetime) -> dict[str, Any]:
    """The case's columns when it is worked (asked, replied): signed for now if nobody had.

    A first work action on a routed case that was not signed for signs it implicitly, in the
    work action's own transaction; its own event (question, reply) says who and when, so no
    "signed" event is written for it.
    """
    if case.department_id is None:
        return {}
    row = await _row(case, "signed_at")
    return {} if row["signed_at"] is not None else {"signed_at": now}


async def _add_co_handlers(
    case: Snapshot, co: dict[str, int], *, lead: int | None, by: int, now: datetime
) -> None:
    rows = await CoHandling.filter(case_id=case.id).values("department_id")
    existing: set[int] = {row["department_id"] for row in rows}
    for code, dept in co.items():
        if dept == lead or dept in existing:
            raise CoHandlingRefused(case.tracking, code)
        await CoHandling.create(case_id=case.id, department_id=dept, added_by=by, created_at=now)
        existing.add(dept)
        await record(
            case, "co_handling", actor=STAFF, actor_id=by, now=now, public=False, department=code
        )


async def _co_codes(case_id: int) -> tuple[str, ...]:
    ids = (
        await CoHandling.filter(case_id=case_id)
        .order_by("id")
        .values_list("department_id", flat=True)
    )
    codes = dict(await Department.filter(id__in=list(ids)).values_list("id", "code"))
    return tuple(codes[i] for i in ids if i in codes)


async def _row(case: Snapshot, *columns: str) -> dict[str, Any]:
    row = await Case.filter(id=case.id).first().values(*columns)
    if row is None:
        raise CaseNotFound(case.tracking)
    return dict(row)
