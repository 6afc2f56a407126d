"""A case's handler within its department (承办人): `/take`, `/give`, and who that is.

Both run through lifecycle_core.run_staff_action: authorized in storage.staff (the staff of the
case's department, supervisors over it, admins), allowed while the case is worked (accepted, in
progress, waiting for the citizen), written under the case's version guard with a private event.

Decisions: a handler is an active staff member whose own department is the case's, whatever
their role (an admin or a supervisor without a department hands cases out but holds none). A
handler-role member takes a case nobody holds and passes on only one they hold or nobody
holds; taking or passing on a colleague's case is for supervisors and admins. The new handler
is written to privately unless the bot knows it cannot reach them (`reachable`); whether that
arrives the bot cannot tell: a staff member known from the staff group may never have opened a
private chat with it (Telegram refuses the send, and storage.reachability marks them). So a
private notice is always a copy: reminders go to the department as well
(storage.deadline_sweeps). A transfer or a return clears the handler
(storage.routing.counted_transfer).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from storage.lifecycle_core import Snapshot, record, run_staff_action, write_case
from storage.models import Actor, Case, CaseStatus, Citizen, Staff, StaffRole
from storage.notice_queue import notify
from storage.staff import StaffAction, StaffView
from storage.tracking import canonical_or_none


class HandlerRefused(Exception):
    """Nobody became the case's handler; `reason` says why, `holder` who holds it now.

    Reasons: not_member (the person named is no active staff of the case's department),
    held (a colleague holds it: a supervisor passes it on), already (that person holds it).
    """

    def __init__(
        self, tracking: str, reason: str, holder: int | None, department: str | None
    ) -> None:
        super().__init__(f"case {tracking}: no new handler ({reason})")
        self.tracking = tracking
        self.reason = reason
        self.holder = holder
        self.department = department  # the case's department's code


@dataclass(frozen=True)
class HandlerView:
    """A handler as staff see them: their user id and the first name Telegram gave."""

    user_id: int
    name: str


@dataclass(frozen=True)
class Handed:
    """What `take_case` or `give_case` did: the case, its handler now, and whether a private
    notice was sent to them (`told`: sent, not known to arrive)."""

    tracking: str
    handler: HandlerView
    previous: int | None
    told: bool


async def take_case(tracking: str, *, by: int, now: datetime) -> Handed:
    """`by` becomes the case's handler. Raises HandlerRefused, StaffNotAuthorized (audited),
    CaseNotFound, TransitionRefused (not routed to a department yet, or ended),
    CaseChangedMeanwhile; on any of them nothing is changed."""
    return await _hand(tracking, by, StaffAction.TAKE, by=by, now=now)


async def give_case(tracking: str, to: int, *, by: int, now: datetime) -> Handed:
    """`to` becomes the case's handler and is written to privately unless known unreachable;
    raises as `take_case` does."""
    return await _hand(tracking, to, StaffAction.GIVE, by=by, now=now)


async def _hand(tracking: str, to: int, action: StaffAction, *, by: int, now: datetime) -> Handed:
    async def work(case: Snapshot, staff: StaffView, status: CaseStatus) -> Handed:
        row = await Case.filter(id=case.id).first().values("handler_id", "department__code")
        holder, department = row["handler_id"], row["department__code"]
        if holder == to:
            raise HandlerRefused(case.tracking, "already", holder, department)
        colleague = holder is not None and holder != by
        if colleague and staff.role is StaffRole.HANDLER:
            raise HandlerRefused(case.tracking, "held", holder, department)
        if not await Staff.exists(user_id=to, active=True, department_id=case.department_id):
            raise HandlerRefused(case.tracking, "not_member", holder, department)
        await write_case(case, now, handler_id=to)
        kind = "handler_taken" if action is StaffAction.TAKE else "handler_given"
        await record(
            case,
            kind,
            actor=Actor.STAFF,
            actor_id=by,
            now=now,
            public=False,
            handler=to,
            previous=holder,
        )
        told = to != by and await reachable(to)
        if told:
            facts = {"tracking": case.tracking, "by": by, "department": department}
            await notify(to, "staff_handler_given", facts, now=now)
        return Handed(case.tracking, await person(to), holder, told)

    return await run_staff_action(tracking, action, by=by, now=now, work=work)


async def reachable(user_id: int) -> bool:
    """Whether a private message may be tried: the bot has heard from this person (in a
    private chat or in the staff group; the two leave the same Citizen row) and no send to
    them was refused since (storage.reachability). Not a promise that it arrives."""
    return await Citizen.exists(id=user_id, unreachable=False)


async def handler_of(tracking: str) -> HandlerView | None:
    """The case's handler, or None (no handler, or no such case). Staff only: callers
    authorize VIEW first."""
    number = canonical_or_none(tracking)
    found = await Case.filter(tracking=number or "").first().values("handler_id")
    if found is None or found["handler_id"] is None:
        return None
    return await person(int(found["handler_id"]))


async def private_handler(case_id: int) -> int | None:
    """The case's handler if a private copy of a reminder may go to them: still active staff
    of the case's department and `reachable`; else None. The department is reminded either
    way."""
    row = await Case.filter(id=case_id).first().values("handler_id", "department_id")
    handler = row["handler_id"] if row else None
    if handler is None or row["department_id"] is None:
        return None
    member = Staff.filter(user_id=handler, active=True, department_id=row["department_id"])
    return int(handler) if await member.exists() and await reachable(handler) else None


async def handler_choices(departments: frozenset[int] | None) -> list[HandlerView]:
    """Active staff with a department among `departments` (None: any), by name then id: whom
    a supervisor may filter the dashboard's list by."""
    staff = Staff.filter(active=True, department_id__not_isnull=True)
    if departments is not None:
        staff = staff.filter(department_id__in=list(departments))
    ids = [int(row["user_id"]) for row in await staff.values("user_id")]
    named = await Citizen.filter(id__in=ids).values("id", "first_name")
    names = {int(row["id"]): str(row["first_name"] or "") for row in named}
    people = [HandlerView(user_id, names.get(user_id, "")) for user_id in ids]
    return sorted(people, key=lambda one: (one.name.casefold(), one.user_id))


async def person(user_id: int) -> HandlerView:
    """A staff member as a handler is shown: their id and first name ("" if never seen)."""
    name = await Citizen.filter(id=user_id).first().values_list("first_name", flat=True)
    return HandlerView(user_id, str(name or ""))
