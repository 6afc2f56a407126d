"""The case lifecycle's rules: the one transition table, the errors, and how a staff action runs.

Import the operations through `storage.lifecycle`. A staff action runs as `run_staff_action`:
one transaction that loads the case, asks storage.staff whom it may be, checks the move in
TRANSITIONS, then lets the operation write the case (guarded by its version), the event and
the notices, and takes stale buttons off the staff chat's earlier messages on the case
(storage.stale_buttons). A denial is audited after the rollback, in its own transaction.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any, TypeVar

from tortoise.transactions import in_transaction

from storage.case_views import CASE_COLUMNS, CaseNotFound, CaseView, case_view
from storage.catalog import DepartmentNotFound
from storage.catalog_checks import as_code
from storage.followers import tell_followers
from storage.models import Actor, Case, CaseStatus, Department, Event
from storage.notice_queue import notify
from storage.staff import (
    StaffAction,
    StaffNotAuthorized,
    StaffView,
    check,
    check_is_staff,
    record_denial,
)
from storage.stale_buttons import retire_stale_buttons
from storage.tracking import canonical_or_none

T = TypeVar("T")
S = CaseStatus
A = StaffAction
CITIZEN_ANSWER = "citizen_answer"  # the one move a citizen makes

# Every legal move: (status before, action) -> status after. Anything else is refused.
# A case accepted into a department stays "accepted" (signed for, not yet worked) until its
# first work action: a question to the citizen or a reply puts it in progress.
TRANSITIONS: dict[tuple[CaseStatus, str], CaseStatus] = {
    (S.SUBMITTED, A.ACCEPT): S.ACCEPTED,
    (S.SUBMITTED, A.REJECT): S.REJECTED,
    (S.ACCEPTED, A.REJECT): S.REJECTED,
    (S.ACCEPTED, A.TRANSFER): S.ACCEPTED,
    (S.IN_PROGRESS, A.TRANSFER): S.ACCEPTED,  # the new department starts afresh
    (S.ACCEPTED, A.ASK): S.AWAITING_CITIZEN,
    (S.IN_PROGRESS, A.ASK): S.AWAITING_CITIZEN,
    (S.AWAITING_CITIZEN, CITIZEN_ANSWER): S.IN_PROGRESS,
    (S.ACCEPTED, A.REPLY): S.IN_PROGRESS,
    (S.IN_PROGRESS, A.REPLY): S.IN_PROGRESS,  # to review: answered only once approved
    (S.IN_PROGRESS, A.APPROVE): S.ANSWERED,
    (S.IN_PROGRESS, A.RETURN_REPLY): S.IN_PROGRESS,
    (S.ANSWERED, A.CLOSE): S.CLOSED,
    (S.ANSWERED, A.REOPEN): S.IN_PROGRESS,
    (S.CLOSED, A.REOPEN): S.IN_PROGRESS,
    (S.SUBMITTED, A.MERGE): S.MERGED,
    (S.ACCEPTED, A.MERGE): S.MERGED,
    (S.IN_PROGRESS, A.MERGE): S.MERGED,
    (S.AWAITING_CITIZEN, A.MERGE): S.MERGED,
    # Routing (storage.routing): the lead department signs for a routed case, or returns it
    # as misrouted before working it (to the supervisors, to route again); co-handling
    # departments join a routed case while it is worked.
    (S.ACCEPTED, A.SIGN): S.ACCEPTED,
    (S.ACCEPTED, A.SEND_BACK): S.SUBMITTED,
    (S.ACCEPTED, A.CO_HANDLE): S.ACCEPTED,
    (S.IN_PROGRESS, A.CO_HANDLE): S.IN_PROGRESS,
    (S.AWAITING_CITIZEN, A.CO_HANDLE): S.AWAITING_CITIZEN,
}
# Time limits (storage.deadlines): urgent and extensions move the clock of an accepted case
# that is still worked, never its status; nor does naming its handler (storage.case_handler).
TRANSITIONS.update(
    {
        (status, action): status
        for status in (S.ACCEPTED, S.IN_PROGRESS, S.AWAITING_CITIZEN)
        for action in (A.URGENT, A.REQUEST_EXTENSION, A.DECIDE_EXTENSION, A.TAKE, A.GIVE)
    }
)

# The events that decide whether a reply waits for review: the latest of them says.
REVIEW_EVENTS = ("reply_submitted", "reply_returned", "answered", "transferred", "reopened")


class TransitionRefused(Exception):
    """This action is not allowed on a case in this state; nothing was changed."""

    def __init__(self, tracking: str, status: CaseStatus, action: str, why: str = "") -> None:
        detail = f": {why}" if why else ""
        super().__init__(f"case {tracking}: cannot {action} when {status}{detail}")
        self.tracking = tracking
        self.status = status
        self.action = action


class ReplyNotPending(TransitionRefused):
    """There is no reply waiting for review (to approve or return)."""


class ReplyAlreadyPending(TransitionRefused):
    """A reply is already waiting for review: it must be approved or returned first."""


class CaseChangedMeanwhile(Exception):
    """Someone else changed the case between reading and writing it; nothing was changed."""

    def __init__(self, tracking: str) -> None:
        super().__init__(f"case {tracking} changed meanwhile: look again")
        self.tracking = tracking


@dataclass(frozen=True)
class Snapshot:
    """The case as read at the start of an action; `version` guards the write."""

    id: int
    tracking: str
    status: CaseStatus
    version: int
    citizen_id: int | None
    department_id: int | None
    proposed_department_id: int | None
    category_id: int

    @property
    def scope(self) -> int | None:
        """The department whose staff the case belongs to (the proposed one before routing)."""
        return self.department_id or self.proposed_department_id


_SNAPSHOT_COLUMNS = (
    "id",
    "tracking",
    "status",
    "version",
    "citizen_id",
    "department_id",
    "proposed_department_id",
    "category_id",
)


async def load_case(tracking: str) -> Snapshot | None:
    """The case by number as it is now, or None."""
    number = canonical_or_none(tracking)
    if number is None:
        return None
    row = await Case.filter(tracking=number).first().values(*_SNAPSHOT_COLUMNS)
    if row is None:
        return None
    return Snapshot(**{**row, "status": CaseStatus(row["status"])})


async def authorized_case(tracking: str, action: StaffAction, by: int) -> Snapshot:
    """The case, if `by` may do `action` on it (storage.staff.check: its department's staff,
    supervisors over it, admins); StaffNotAuthorized (the caller audits it) or CaseNotFound. A
    non-staff user learns nothing of whether the case exists."""
    case = await load_case(tracking)
    if case is None:
        await check_is_staff(by, action, None)
        raise CaseNotFound(tracking)
    await check(by, action, (case.scope,), tracking=case.tracking)
    return case


def possible(status: CaseStatus, action: str) -> bool:
    """Whether TRANSITIONS has this move: to offer a button only while it can work."""
    return (status, action) in TRANSITIONS


def next_status(case: Snapshot, action: str) -> CaseStatus:
    """The status after `action`, from TRANSITIONS; TransitionRefused when not allowed."""
    after = TRANSITIONS.get((case.status, action))
    if after is None:
        raise TransitionRefused(case.tracking, case.status, action)
    return after


async def department_id(code: str) -> int:
    """An active department's id by code; DepartmentNotFound otherwise."""
    found = await Department.filter(code=as_code(code), active=True).first().values("id")
    if found is None:
        raise DepartmentNotFound(code)
    return int(found["id"])


Work = Callable[[Snapshot, StaffView, CaseStatus], Awaitable[T]]


async def run_staff_action(
    tracking: str,
    action: StaffAction,
    *,
    by: int,
    now: datetime,
    work: Work[T],
    targets: Sequence[int | None] = (),
) -> T:
    """One staff action, one transaction: authorize, check the move, then `work` writes.

    `targets` are further departments the action touches (where a case is routed to).
    Raises StaffNotAuthorized (audited after the rollback), CaseNotFound, TransitionRefused,
    CaseChangedMeanwhile, and whatever `work` raises; on any of them nothing is changed.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("timezone-aware datetimes only")
    try:
        async with in_transaction():
            case = await load_case(tracking)
            if case is None:
                await check_is_staff(by, action, None)  # a non-staff user learns nothing
                raise CaseNotFound(tracking)
            staff = await check(by, action, (case.scope, *targets), tracking=case.tracking)
            done = await work(case, staff, next_status(case, action))
            # The staff chat's earlier buttons on the case that no longer apply go (edited).
            waiting = partial(_awaits_review, case)
            await retire_stale_buttons(case.tracking, awaiting_review=waiting, now=now)
            return done
    except StaffNotAuthorized as denied:
        await record_denial(denied, now=now)
        raise


async def write_case(case: Snapshot, now: datetime, **changes: Any) -> None:
    """Apply `changes` if nobody changed the case since it was read; CaseChangedMeanwhile if so.

    UPDATE ... WHERE id = ? AND version = ?: standard SQL, so it guards on PostgreSQL too.
    """
    written = await Case.filter(id=case.id, version=case.version).update(
        **changes, version=case.version + 1, updated_at=now
    )
    if written != 1:
        raise CaseChangedMeanwhile(case.tracking)


async def record(
    case: Snapshot,
    kind: str,
    *,
    actor: Actor,
    actor_id: int | None,
    now: datetime,
    public: bool,
    **payload: Any,
) -> None:
    """Write one event on the case."""
    await Event.create(
        case_id=case.id,
        kind=kind,
        actor=actor,
        actor_id=actor_id,
        payload=payload,
        public=public,
        created_at=now,
    )


async def tell_citizen(case: Snapshot, kind: str, now: datetime, **params: Any) -> None:
    """A notice to the case's citizen, unless they asked to be forgotten, and the followers' own
    notice of the move, if it is one they hear of (storage.followers)."""
    facts = {"tracking": case.tracking, **params}
    if case.citizen_id is not None:
        await notify(case.citizen_id, kind, facts, now=now)
    await tell_followers(case.id, kind, facts, now=now)


async def pending_reply(case: Snapshot) -> dict[str, Any] | None:
    """The payload of the reply waiting for review, or None."""
    latest = (
        await Event.filter(case_id=case.id, kind__in=REVIEW_EVENTS)
        .order_by("-id")
        .first()
        .values("kind", "payload")
    )
    if latest is None or latest["kind"] != "reply_submitted":
        return None
    return dict(latest["payload"])


async def _awaits_review(case: Snapshot) -> bool:
    return await pending_reply(case) is not None


async def view_of(case: Snapshot) -> CaseView:
    return case_view(await Case.filter(id=case.id).first().values(*CASE_COLUMNS))
