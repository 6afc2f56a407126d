"""The routing proposal of a new case and its outcome: which department, why, and whether
staff took it.

A functional category (the default) goes to its own department wherever the place is; a local
one (属地) to the department of the most local area holding the place, or to its own
department when there is no place or the place is outside every area. Accepting a case into
the proposed department records the proposal "accepted"; routing it anywhere else, at
acceptance or by a later transfer, records it "changed" for good.
"""

from __future__ import annotations

from typing import Any

from storage.areas import area_at
from storage.case_views import Location
from storage.models import Case

LOCAL = "local"
ACCEPTED = "accepted"
CHANGED = "changed"


async def proposal(category: dict[str, Any], location: Location | None) -> dict[str, Any]:
    """A new case's proposal as values of its row, from its category row (department_id,
    scope) and its place: proposed_department_id, proposal_reason and area_code."""
    where = None
    if location is not None and location.latitude is not None and location.longitude is not None:
        where = await area_at(location.latitude, location.longitude)
    values: dict[str, Any] = {
        "proposed_department_id": category["department_id"],
        "area_code": where.code if where is not None else None,
    }
    if category["scope"] != LOCAL:
        return {**values, "proposal_reason": {"kind": "functional"}}
    if where is None:
        return {**values, "proposal_reason": {"kind": "category"}}
    reason = {"kind": LOCAL, "area": where.code}
    return {**values, "proposed_department_id": where.department_id, "proposal_reason": reason}


async def record_outcome(case_id: int, proposed_id: int | None, routed_to: int) -> None:
    """The case was routed to `routed_to`: the proposal accepted, or changed (for good)."""
    if proposed_id is None:
        return
    cases = Case.filter(id=case_id)
    if routed_to != proposed_id:
        await cases.update(proposal_outcome=CHANGED)
    else:
        await cases.filter(proposal_outcome=None).update(proposal_outcome=ACCEPTED)
