"""Storage tests' case fixtures: two citizens, the sample catalog, and a new case to submit."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from storage import cases
from storage.cases import (
    CaseKind,
    Location,
    NewCase,
    submit_case,
)
from storage.catalog import SAMPLE_CATALOG, load_catalog
from storage.models import Citizen

SHANGHAI = ZoneInfo("Asia/Shanghai")
STAFF_CHAT = -100_123
ALICE, BOB = 1001, 1002
# Friday 10 January 2025, 18:00 in Shanghai.
FRIDAY_EVENING = datetime(2025, 1, 10, 18, 0, tzinfo=SHANGHAI)


@pytest.fixture
async def db(db: None) -> None:
    """The shared empty database with the sample catalog, and Alice and Bob as citizens."""
    await load_catalog(SAMPLE_CATALOG)
    for user_id, name in ((ALICE, "Alice"), (BOB, "Bob")):
        await Citizen.create(id=user_id, language="en", first_name=name, phone="+8613800000000")


def new_case(citizen_id: int = ALICE, **changes: Any) -> NewCase:
    base = NewCase(
        citizen_id=citizen_id,
        kind=CaseKind.COMPLAINT,
        category_code="heating.no-heat",
        text="The radiators in building 3 have been cold since Monday.",
        photos=("photo-1", "photo-2"),
        location=Location(39.9, 116.4, "Heping Road 3, flat 12"),
        answers={"indoor_temp": 12, "since": "2025-01-06"},
        phone="+8613800000000",
        anonymous=False,
    )
    return replace(base, **changes)


async def submit(
    new: NewCase | None = None,
    *,
    now: datetime = FRIDAY_EVENING,
    limit: int = 5,
    staff: int | None = STAFF_CHAT,
) -> cases.CaseView:
    return await submit_case(
        new or new_case(), now=now, zone=SHANGHAI, daily_limit=limit, staff_chat_id=staff
    )
