"""Staff: roles, managing the staff list, and the access matrix, with every denial audited in
the access log (and never on the case)."""

from __future__ import annotations

import pytest

from storage.cases import CaseNotFound
from storage.catalog import DepartmentNotFound
from storage.lifecycle import accept_case, submit_reply
from storage.models import AccessDenial, StaffRole
from storage.staff import (
    StaffAction,
    StaffDepartmentRequired,
    StaffLastAdmin,
    StaffNotAuthorized,
    StaffNotFound,
    add_staff,
    authorize,
    ensure_admins,
    list_staff,
    remove_staff,
    staff_member,
)
from tests.staff_fixtures import (
    ADMIN,
    BOB,
    HEAT_HANDLER,
    HOUSING_SUP,
    NOW,
    SHANGHAI,
    SUPERVISOR,
    WATER_HANDLER,
    WATER_SUP,
    db,
    events,
    file_case,
)

__all__ = ["db"]  # the fixture, asked for by name


async def denials() -> list[tuple[int, str, str | None, str]]:
    rows = await AccessDenial.all().order_by("id")
    return [(r.user_id, r.action, r.tracking, r.reason) for r in rows]


async def test_ensure_admins_is_idempotent_and_promotes(db: None) -> None:
    await ensure_admins([ADMIN, 7, HEAT_HANDLER], now=NOW)
    await ensure_admins([7], now=NOW)
    roles = [(s.user_id, s.role) for s in await list_staff()]
    assert roles[:3] == [(ADMIN, "admin"), (HEAT_HANDLER, "admin"), (7, "admin")]
    promoted = await staff_member(HEAT_HANDLER)
    assert promoted is not None
    assert promoted.department_code is None


async def test_list_staff_orders_by_role(db: None) -> None:
    listed = [(s.user_id, s.role.value, s.department_code) for s in await list_staff()]
    assert listed == [
        (ADMIN, "admin", None),
        (SUPERVISOR, "supervisor", None),
        (HOUSING_SUP, "supervisor", "housing-bureau"),
        (WATER_SUP, "supervisor", "water-authority"),
        (HEAT_HANDLER, "handler", "heating-company"),
        (WATER_HANDLER, "handler", "water-company"),
    ]
    assert all(s.added_by == ADMIN for s in (await list_staff())[1:])


async def test_only_admins_manage_staff_and_denials_are_audited(db: None) -> None:
    with pytest.raises(StaffNotAuthorized):
        await add_staff(BOB, StaffRole.ADMIN, None, by=SUPERVISOR, now=NOW)
    with pytest.raises(StaffNotAuthorized):
        await remove_staff(ADMIN, by=BOB, now=NOW)
    assert await staff_member(BOB) is None
    assert await denials() == [
        (SUPERVISOR, "manage_staff", None, "role"),
        (BOB, "manage_staff", None, "not_staff"),
    ]


async def test_add_staff_checks_department(db: None) -> None:
    with pytest.raises(StaffDepartmentRequired):
        await add_staff(BOB, StaffRole.HANDLER, None, by=ADMIN, now=NOW)
    with pytest.raises(DepartmentNotFound):
        await add_staff(BOB, StaffRole.HANDLER, "no-such-office", by=ADMIN, now=NOW)
    assert await staff_member(BOB) is None


async def test_remove_then_add_again_and_keep_one_admin(db: None) -> None:
    removed = await remove_staff(WATER_HANDLER, by=ADMIN, now=NOW)
    assert not removed.active
    assert await staff_member(WATER_HANDLER) is None
    with pytest.raises(StaffNotFound):
        await remove_staff(WATER_HANDLER, by=ADMIN, now=NOW)
    back = await add_staff(WATER_HANDLER, StaffRole.SUPERVISOR, None, by=ADMIN, now=NOW)
    assert (back.role, back.active) == (StaffRole.SUPERVISOR, True)
    with pytest.raises(StaffLastAdmin):
        await remove_staff(ADMIN, by=ADMIN, now=NOW)
    with pytest.raises(StaffLastAdmin):
        await add_staff(ADMIN, StaffRole.SUPERVISOR, None, by=ADMIN, now=NOW)
    await add_staff(BOB, StaffRole.ADMIN, None, by=ADMIN, now=NOW)
    await remove_staff(ADMIN, by=BOB, now=NOW)
    assert await staff_member(ADMIN) is None


A = StaffAction
MATRIX = [
    # (user, action, allowed) on a submitted heating case (proposed: heating-company)
    (BOB, A.VIEW, False),
    (BOB, A.REPLY, False),
    (WATER_HANDLER, A.REPLY, False),
    (WATER_HANDLER, A.VIEW, False),
    (HEAT_HANDLER, A.REPLY, True),
    (HEAT_HANDLER, A.ASK, True),
    (HEAT_HANDLER, A.ACCEPT, False),
    (HEAT_HANDLER, A.APPROVE, False),
    (SUPERVISOR, A.ACCEPT, True),
    (SUPERVISOR, A.APPROVE, True),
    (SUPERVISOR, A.MANAGE_STAFF, False),
    (HOUSING_SUP, A.ACCEPT, True),
    (HOUSING_SUP, A.REOPEN, True),
    (WATER_SUP, A.ACCEPT, False),
    (WATER_SUP, A.RETURN_REPLY, False),
    *[(ADMIN, action, True) for action in StaffAction],
]


@pytest.mark.parametrize(("user", "action", "allowed"), MATRIX)
async def test_access_matrix(db: None, user: int, action: StaffAction, allowed: bool) -> None:
    tracking = await file_case()
    if allowed:
        staff = await authorize(user, action, tracking, now=NOW)
        assert staff.user_id == user
        assert await denials() == []
        return
    with pytest.raises(StaffNotAuthorized) as denied:
        await authorize(user, action, tracking, now=NOW)
    assert denied.value.user_id == user
    assert await denials() == [(user, action.value, tracking, denied.value.reason)]
    # In the access log only: a denial never writes into the case's history.
    assert [e["kind"] for e in await events(tracking)] == ["submitted"]


async def test_subtree_supervisor_and_caseless_actions(db: None) -> None:
    await authorize(SUPERVISOR, A.BAN, None, now=NOW)
    await authorize(ADMIN, A.MANAGE_STAFF, None, now=NOW)
    with pytest.raises(StaffNotAuthorized):
        await authorize(HOUSING_SUP, A.BAN, None, now=NOW)
    with pytest.raises(StaffNotAuthorized):
        await authorize(HEAT_HANDLER, A.BAN, None, now=NOW)
    assert [d[3] for d in await denials()] == ["department", "role"]


async def test_absent_case_is_not_found_for_staff_and_denied_to_others(db: None) -> None:
    with pytest.raises(StaffNotAuthorized):
        await authorize(BOB, A.VIEW, "ABCD-EFGH-JKMN", now=NOW)
    with pytest.raises(CaseNotFound):
        await authorize(HEAT_HANDLER, A.VIEW, "ABCD-EFGH-JKMN", now=NOW)
    assert [d[0] for d in await denials()] == [BOB]


async def test_operations_enforce_access_and_audit(db: None) -> None:
    """The same matrix through operations: a refusal changes nothing but the audit."""
    tracking = await file_case()
    with pytest.raises(StaffNotAuthorized):
        await accept_case(tracking, "heating-company", by=HEAT_HANDLER, now=NOW, zone=SHANGHAI)
    with pytest.raises(StaffNotAuthorized):  # the target lies outside their subtree
        await accept_case(tracking, "water-company", by=HOUSING_SUP, now=NOW, zone=SHANGHAI)
    accepted = await accept_case(
        tracking, "heating-company", by=HOUSING_SUP, now=NOW, zone=SHANGHAI
    )
    assert accepted.department_code == "heating-company"
    for outsider in (BOB, WATER_HANDLER):
        with pytest.raises(StaffNotAuthorized):
            await submit_reply(tracking, "Fixed on Tuesday.", by=outsider, now=NOW)
    reply = await submit_reply(tracking, "Fixed on Tuesday.", by=HEAT_HANDLER, now=NOW)
    assert reply.by == HEAT_HANDLER
    assert [(d[0], d[1], d[3]) for d in await denials()] == [
        (HEAT_HANDLER, "accept", "role"),
        (HOUSING_SUP, "accept", "department"),
        (BOB, "reply", "not_staff"),
        (WATER_HANDLER, "reply", "department"),
    ]
    kinds = [e["kind"] for e in await events(tracking)]
    assert kinds == ["submitted", "accepted", "reply_submitted"]
