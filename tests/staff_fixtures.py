"""Storage tests' staff fixtures: the sample catalog, citizens and a team, and cases to work on."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from storage.cases import Location, NewCase, submit_case
from storage.catalog import SAMPLE_CATALOG, load_catalog
from storage.models import CaseKind, Citizen, Event, StaffRole
from storage.staff import (
    add_staff,
    ensure_admins,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2025, 1, 10, 18, 0, tzinfo=SHANGHAI)  # a Friday evening
ALICE, BOB = 1001, 1002  # citizens; Bob is no staff member
ADMIN, SUPERVISOR, HOUSING_SUP, WATER_SUP = 1, 2, 3, 4
HEAT_HANDLER, WATER_HANDLER = 5, 6
# heating.no-heat proposes heating-company, under housing-bureau; water-company is elsewhere.
TEAM = (
    (SUPERVISOR, StaffRole.SUPERVISOR, None),
    (HOUSING_SUP, StaffRole.SUPERVISOR, "housing-bureau"),
    (WATER_SUP, StaffRole.SUPERVISOR, "water-authority"),
    (HEAT_HANDLER, StaffRole.HANDLER, "heating-company"),
    (WATER_HANDLER, StaffRole.HANDLER, "water-company"),
)


@pytest.fixture
async def db(db: None) -> None:
    """The shared empty database with the sample catalog, Alice and Bob, and the team."""
    await load_catalog(SAMPLE_CATALOG)
    for user_id in (ALICE, BOB):
        await Citizen.create(id=user_id, language="en")
    await ensure_admins([ADMIN], now=NOW)
    for user_id, role, department in TEAM:
        await add_staff(user_id, role, department, by=ADMIN, now=NOW)


async def file_case(citizen_id: int = ALICE) -> str:
    new = NewCase(
        citizen_id=citizen_id,
        kind=CaseKind.COMPLAINT,
        category_code="heating.no-heat",
        text="The radiators in building 3 have been cold since Monday.",
        photos=(),
        location=Location(39.9, 116.4, "Heping Road 3"),
        answers={},
        phone=None,
        anonymous=False,
    )
    case = await submit_case(new, now=NOW, zone=SHANGHAI, daily_limit=50, staff_chat_id=None)
    return case.tracking


async def events(tracking: str, kind: str | None = None) -> list[dict[str, Any]]:
    query = Event.filter(case__tracking=tracking).order_by("id")
    if kind is not None:
        query = query.filter(kind=kind)
    return list(await query.values("kind", "actor", "actor_id", "payload", "public"))
