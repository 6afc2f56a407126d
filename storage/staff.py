"""Staff: who may do what. Roles, departments, and the one place that decides access.

`check` is the decision (used by every staff operation inside its own transaction);
`authorize` is the same decision for callers outside an operation, with the denial audited.
Every denial is recorded in the access log (an AccessDenial row) and nowhere else: an event on
the case would let anyone who can forge a button press write into that case's history.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from tortoise.transactions import in_transaction

from storage.case_views import CaseNotFound
from storage.catalog import DepartmentNotFound
from storage.catalog_checks import as_code
from storage.models import (
    AccessDenial,
    Case,
    CoHandling,
    Department,
    Staff,
    StaffRole,
)
from storage.tracking import canonical_or_none

__all__ = ["DepartmentNotFound", "StaffRole"]


class StaffAction(StrEnum):
    ACCEPT = "accept"
    REJECT = "reject"
    ASSIGN = "assign"
    TRANSFER = "transfer"
    REPLY = "reply"
    ASK = "ask"
    NOTE = "note"
    CLOSE = "close"
    MERGE = "merge"
    REOPEN = "reopen"
    APPROVE = "approve"
    RETURN_REPLY = "return_reply"
    BAN = "ban"
    MANAGE_STAFF = "manage_staff"
    VIEW = "view"
    SIGN = "sign"  # the lead department signs for a routed case (签收)
    SEND_BACK = "send_back"  # the lead department returns it as misrouted (退单)
    CO_HANDLE = "co_handle"  # add a co-handling department (协办)
    URGENT = "urgent"  # mark a case urgent, with its own shorter limit
    REQUEST_EXTENSION = "request_extension"  # a department asks for more time (延期)
    DECIDE_EXTENSION = "decide_extension"  # a supervisor grants or refuses it
    REPORTS = "reports"  # statistics, digests and exports
    PUBLISH = "publish"  # write or approve the public text of a case whose citizen consented
    EDIT_ARTICLE = "edit_article"  # edit a knowledge-base article of one's department
    TAKE = "take"  # become the case's handler within its department (承办人)
    GIVE = "give"  # make a member of the case's department its handler
    CALLBACK = "callback"  # record a callback (回访) to the citizen of an answered case
    DISPUTE = "dispute"  # a department disputes an unsatisfied rating (差评复核)
    DECIDE_DISPUTE = "decide_dispute"  # a supervisor grants or refuses the dispute


# Handlers work the cases of their own department; supervisors route, review and chase.
_HANDLER_ACTIONS = frozenset(
    {
        StaffAction.REPLY,
        StaffAction.ASK,
        StaffAction.NOTE,
        StaffAction.VIEW,
        StaffAction.SIGN,
        StaffAction.SEND_BACK,
        StaffAction.REQUEST_EXTENSION,
        StaffAction.PUBLISH,
        StaffAction.EDIT_ARTICLE,
        StaffAction.TAKE,
        StaffAction.GIVE,
        StaffAction.CALLBACK,
        StaffAction.DISPUTE,
    }
)
_SUPERVISOR_ACTIONS = frozenset(StaffAction) - {StaffAction.MANAGE_STAFF}
# Actions that name no case: a supervisor limited to a subtree may not take them.
_CASELESS_ACTIONS = frozenset({StaffAction.BAN, StaffAction.MANAGE_STAFF})
# What the staff of a co-handling department may do on the case (the lead department answers).
_CO_HANDLING_ACTIONS = frozenset({StaffAction.VIEW, StaffAction.NOTE})


class StaffNotAuthorized(Exception):
    """This user may not take this action (on this case): not staff, wrong role or department."""

    def __init__(self, user_id: int, action: StaffAction, tracking: str | None, reason: str):
        super().__init__(f"user {user_id} may not {action} ({reason})")
        self.user_id = user_id
        self.action = action
        self.tracking = tracking
        self.reason = reason  # not_staff | role | department


class StaffNotFound(LookupError):
    """No active staff member has this user id."""


class StaffDepartmentRequired(ValueError):
    """A handler must belong to a department."""


class StaffLastAdmin(Exception):
    """Removing or demoting this admin would leave the desk without one."""


@dataclass(frozen=True)
class StaffView:
    user_id: int
    role: StaffRole
    department_code: str | None
    active: bool
    added_by: int | None
    created_at: datetime


_COLUMNS = (
    "user_id",
    "role",
    "department_id",
    "department__code",
    "active",
    "added_by",
    "created_at",
)


def _view(row: dict[str, Any]) -> StaffView:
    return StaffView(
        user_id=row["user_id"],
        role=StaffRole(row["role"]),
        department_code=row["department__code"],
        active=row["active"],
        added_by=row["added_by"],
        created_at=row["created_at"],
    )


async def check(
    user_id: int,
    action: StaffAction,
    departments: Sequence[int | None] = (),
    *,
    tracking: str | None = None,
) -> StaffView:
    """The access decision; raises StaffNotAuthorized and writes nothing.

    `departments` are the department ids the action touches (the case's, and a target one when
    routing); a case not yet assigned counts by its proposed department, else as None, which
    only admins and unrestricted supervisors may touch.
    """
    row = await Staff.filter(user_id=user_id, active=True).first().values(*_COLUMNS)
    if row is None:
        raise StaffNotAuthorized(user_id, action, tracking, "not_staff")
    staff, own = _view(row), row["department_id"]
    if staff.role is StaffRole.ADMIN:
        return staff
    allowed = _HANDLER_ACTIONS if staff.role is StaffRole.HANDLER else _SUPERVISOR_ACTIONS
    if action not in allowed:
        raise StaffNotAuthorized(user_id, action, tracking, "role")
    reach: frozenset[int] = frozenset({own}) if own is not None else frozenset()
    if staff.role is StaffRole.HANDLER:
        fits = bool(departments) and all(d == own for d in departments)
    elif own is None:
        fits = True
    elif action in _CASELESS_ACTIONS:
        fits = False
    else:
        reach = await _subtree(own)
        fits = all(d in reach for d in departments)
    if not fits and action in _CO_HANDLING_ACTIONS and tracking is not None:
        # A co-handling department (协办) of the case sees it and adds its input as notes.
        fits = await CoHandling.exists(case__tracking=tracking, department_id__in=list(reach))
    if not fits:
        raise StaffNotAuthorized(user_id, action, tracking, "department")
    return staff


async def _subtree(root: int) -> frozenset[int]:
    """A department and everything under it (the tree is small: one query, walked here)."""
    children: dict[int, list[int]] = {}
    for dept_id, parent_id in await Department.all().values_list("id", "parent_id"):
        children.setdefault(parent_id, []).append(dept_id)
    found, todo = {root}, [root]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return frozenset(found)


async def record_denial(denied: StaffNotAuthorized, *, now: datetime) -> None:
    """Audit a denial in the access log (never on the case: see the module's docstring).

    Call it after the refused operation's transaction has rolled back (in a new one), or the
    audit would be rolled back with it.
    """
    await AccessDenial.create(
        user_id=denied.user_id,
        action=str(denied.action),
        tracking=denied.tracking,
        reason=denied.reason,
        created_at=now,
    )


async def record_unattributable(sender_id: int, what: str, *, now: datetime) -> None:
    """Audit an action refused because no person can be named behind it: an anonymous group
    admin or a message sent on behalf of a chat (`what`: the command, "reply" or "button")."""
    await AccessDenial.create(
        user_id=sender_id, action=what[:32], tracking=None, reason="anonymous", created_at=now
    )


async def authorize(
    user_id: int, action: StaffAction, case_tracking: str | None, *, now: datetime
) -> StaffView:
    """May this user take this action (on this case)? The staff view, or StaffNotAuthorized.

    A denial is audited before it is raised. A non-staff user is denied before the case is
    looked up (so nothing leaks); staff naming an absent case get CaseNotFound.
    """
    canonical = canonical_or_none(case_tracking) if case_tracking is not None else None
    try:
        async with in_transaction():
            if case_tracking is None:
                return await check(user_id, action, ())
            await check_is_staff(user_id, action, canonical)
            row = (
                await Case.filter(tracking=canonical or "")
                .first()
                .values("department_id", "proposed_department_id")
            )
            if row is None:
                raise CaseNotFound(case_tracking)
            scope = row["department_id"] or row["proposed_department_id"]
            return await check(user_id, action, (scope,), tracking=canonical)
    except StaffNotAuthorized as denied:
        await record_denial(denied, now=now)
        raise


async def check_is_staff(user_id: int, action: StaffAction, tracking: str | None) -> None:
    """Deny a user who is no active staff member, or whose role never takes this action,
    before any case is looked up: neither learns whether the case exists."""
    row = await Staff.filter(user_id=user_id, active=True).first().values("role")
    if row is None:
        raise StaffNotAuthorized(user_id, action, tracking, "not_staff")
    role = StaffRole(row["role"])
    allowed = _HANDLER_ACTIONS if role is StaffRole.HANDLER else _SUPERVISOR_ACTIONS
    if role is not StaffRole.ADMIN and action not in allowed:
        raise StaffNotAuthorized(user_id, action, tracking, "role")


async def add_staff(
    user_id: int, role: StaffRole, department_code: str | None, *, by: int, now: datetime
) -> StaffView:
    """Make a user staff (or change their role and department); `by` must be an admin.

    Raises StaffNotAuthorized (audited), StaffDepartmentRequired for a handler without a
    department, DepartmentNotFound, StaffLastAdmin when demoting the only admin.
    """
    role = StaffRole(role)
    if role is StaffRole.HANDLER and department_code is None:
        raise StaffDepartmentRequired(user_id)
    try:
        async with in_transaction():
            await check(by, StaffAction.MANAGE_STAFF)
            dept_id = None
            if department_code is not None:
                active = Department.filter(code=as_code(department_code), active=True)
                dept_id = await active.first().values_list("id", flat=True)
                if dept_id is None:
                    raise DepartmentNotFound(department_code)
            existing = await Staff.get_or_none(user_id=user_id)
            if existing is None:
                await Staff.create(
                    user_id=user_id,
                    role=role,
                    department_id=dept_id,
                    active=True,
                    added_by=by,
                    created_at=now,
                    updated_at=now,
                )
            else:
                if role is not StaffRole.ADMIN:
                    await _keep_an_admin(user_id)
                await Staff.filter(user_id=user_id).update(
                    role=role, department_id=dept_id, active=True, added_by=by, updated_at=now
                )
            return await _member(user_id)
    except StaffNotAuthorized as denied:
        await record_denial(denied, now=now)
        raise


async def remove_staff(user_id: int, *, by: int, now: datetime) -> StaffView:
    """Take a user off the staff (the row stays, inactive); `by` must be an admin.

    Raises StaffNotAuthorized (audited), StaffNotFound, StaffLastAdmin.
    """
    try:
        async with in_transaction():
            await check(by, StaffAction.MANAGE_STAFF)
            if not await Staff.exists(user_id=user_id, active=True):
                raise StaffNotFound(user_id)
            await _keep_an_admin(user_id)
            await Staff.filter(user_id=user_id).update(active=False, updated_at=now)
            return await _member(user_id)
    except StaffNotAuthorized as denied:
        await record_denial(denied, now=now)
        raise


async def _keep_an_admin(user_id: int) -> None:
    others = Staff.filter(role=StaffRole.ADMIN, active=True).exclude(user_id=user_id)
    is_admin = await Staff.exists(user_id=user_id, role=StaffRole.ADMIN, active=True)
    if is_admin and not await others.exists():
        raise StaffLastAdmin(user_id)


async def ensure_admins(user_ids: Iterable[int], *, now: datetime) -> list[StaffView]:
    """Make the settings' first admins active admins (at start-up; idempotent)."""
    ids = sorted(set(user_ids))
    async with in_transaction():
        for user_id in ids:
            existing = await Staff.get_or_none(user_id=user_id)
            if existing is None:
                await Staff.create(
                    user_id=user_id,
                    role=StaffRole.ADMIN,
                    active=True,
                    created_at=now,
                    updated_at=now,
                )
            elif existing.role is not StaffRole.ADMIN or not existing.active:
                await Staff.filter(user_id=user_id).update(
                    role=StaffRole.ADMIN, department_id=None, active=True, updated_at=now
                )
        return [await _member(user_id) for user_id in ids]


async def staff_member(user_id: int) -> StaffView | None:
    """An active staff member by user id, or None."""
    async with in_transaction():
        row = await Staff.filter(user_id=user_id, active=True).first().values(*_COLUMNS)
    return None if row is None else _view(row)


def may(role: StaffRole, action: StaffAction, department_code: str | None = None) -> bool:
    """Whether a role (of this department, None for the whole desk) takes this action at all;
    on which cases, `check` decides. The command menus list what a member may do: a handler
    never sees /grant or /staff."""
    if role is StaffRole.ADMIN:
        return True
    if role is StaffRole.HANDLER:
        return action in _HANDLER_ACTIONS
    barred = department_code is not None and action in _CASELESS_ACTIONS
    return action in _SUPERVISOR_ACTIONS and not barred


async def staff_changes(
    user_ids: Iterable[int] | None = None,
) -> dict[int, tuple[StaffView, datetime]]:
    """Each staff row (active or not) as it stands, and when it last changed.

    The staff command menus follow these: one menu per change of a member's row.
    """
    rows = Staff.all() if user_ids is None else Staff.filter(user_id__in=list(user_ids))
    found = await rows.values(*_COLUMNS, "updated_at")
    return {int(row["user_id"]): (_view(row), row["updated_at"]) for row in found}


async def list_staff() -> list[StaffView]:
    """The active staff, admins first, then supervisors, then handlers; by user id."""
    async with in_transaction():
        rows = await Staff.filter(active=True).order_by("user_id").values(*_COLUMNS)
    order = {StaffRole.ADMIN: 0, StaffRole.SUPERVISOR: 1, StaffRole.HANDLER: 2}
    views = [_view(row) for row in rows]
    return sorted(views, key=lambda v: (order[v.role], v.user_id))


async def _member(user_id: int) -> StaffView:
    return _view(await Staff.filter(user_id=user_id).first().values(*_COLUMNS))
