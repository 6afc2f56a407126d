"""Storage tests' report fixtures: cases made with the dates and states a report needs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from storage.models import Case, Category, Department

T0 = datetime(2025, 1, 6, 2, 0, tzinfo=UTC)


def h(hours: float, base: datetime = T0) -> datetime:
    return base + timedelta(hours=hours)


async def make(
    n: int,
    dept: str | None,
    status: str,
    *,
    created: datetime = T0,
    proposed: str | None = None,
    accepted: bool = True,
    **fields: Any,
) -> Case:
    """A case row with known timestamps (accepted cases get sign due +4h and due +48h)."""
    codes = dict(await Department.all().values_list("code", "id"))
    category_id = (
        await Category.filter(code="heating.no-heat").first().values_list("id", flat=True)
    )
    values: dict[str, Any] = {
        "tracking": f"TEST{n:08d}",
        "kind": "complaint",
        "category_id": category_id,
        "department_id": codes.get(dept) if dept else None,
        "proposed_department_id": codes.get(proposed or dept) if (proposed or dept) else None,
        "status": status,
        "text": f"case {n}",
        "created_at": created,
        "updated_at": created,
    }
    if accepted:
        values.update(
            accepted_at=h(0.5, created), sign_due_at=h(4, created), due_at=h(48, created)
        )
    values.update(fields)
    return await Case.create(**values)
