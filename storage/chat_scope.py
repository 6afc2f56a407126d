"""What a department's own chat may be shown: its members are that department's staff, so a
case of another department, or a queue reaching further, stays out of it (asked for in a
private chat or in the staff group instead)."""

from __future__ import annotations

from storage.models import Case, CoHandling, Department, Staff
from storage.queue import reach_of


async def case_belongs(tracking: str, code: str) -> bool:
    """Whether department `code` has the case: its department, the one proposed while it has
    none, or a co-handling department."""
    row = await (
        Case.filter(tracking=tracking)
        .first()
        .values("id", "department__code", "proposed_department__code")
    )
    if row is None:
        return False
    if row["department__code"] == code:
        return True
    if row["department__code"] is None and row["proposed_department__code"] == code:
        return True
    return await CoHandling.exists(case_id=row["id"], department__code=code)


async def queue_confined(user_id: int, code: str, *, own_department: bool) -> bool:
    """Whether a staff member's queue lists only department `code`'s cases: their reach is
    that department alone, or (`own_department`: /queue department) it is their own."""
    department = await Department.filter(code=code).first().values("id")
    member = await Staff.filter(user_id=user_id, active=True).first().values("department_id")
    if department is None or member is None:
        return False
    if own_department and member["department_id"] == department["id"]:
        return True
    return await reach_of(user_id) == frozenset({department["id"]})
