"""Privacy: exporting what we hold about a citizen, and forgetting it while figures stay true."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from storage.cases import (
    CaseNotFound,
    CaseStatus,
    add_information,
    case_by_tracking,
    case_of_citizen,
    public_timeline,
    submit_case,
)
from storage.catalog import SAMPLE_CATALOG, load_catalog
from storage.data_export import held_data
from storage.erasure import ERASED
from storage.models import Case, Citizen, Draft, Event
from storage.privacy import ForgetReport, forget_citizen
from tests.case_fixtures import ALICE, BOB, FRIDAY_EVENING, SHANGHAI, STAFF_CHAT, new_case

LATER = FRIDAY_EVENING + timedelta(days=3)


@pytest.fixture
async def db(db: None) -> None:
    await load_catalog(SAMPLE_CATALOG)
    for user_id, name in ((ALICE, "Alice"), (BOB, "Bob")):
        await Citizen.create(
            id=user_id, language="zh_Hans", first_name=name, phone="+8613800000000"
        )


async def file(citizen_id: int, **changes: Any) -> str:
    case = await submit_case(
        new_case(citizen_id, **changes),
        now=FRIDAY_EVENING,
        zone=SHANGHAI,
        daily_limit=5,
        staff_chat_id=STAFF_CHAT,
    )
    return case.tracking


@pytest.fixture
async def alice_cases(db: None) -> tuple[str, str]:
    """Alice: one open case with an addition, one closed case; a draft in progress."""
    open_one = await file(ALICE)
    await add_information(
        open_one,
        ALICE,
        text="Photo of the thermometer",
        photos=("p-9",),
        now=FRIDAY_EVENING,
        staff_chat_id=STAFF_CHAT,
    )
    closed_one = await file(ALICE, category_code="heating.fees")
    await Case.filter(tracking=closed_one).update(
        status=CaseStatus.CLOSED, closed_at=FRIDAY_EVENING
    )
    await Draft.create(citizen_id=ALICE, step="description", data={"kind": "report"})
    return open_one, closed_one


async def test_the_export_holds_what_is_kept_about_the_citizen_and_no_one_else(
    alice_cases: tuple[str, str],
) -> None:
    open_one, closed_one = alice_cases
    bobs = await file(BOB)
    data = await held_data(ALICE)

    assert (data.user_id, data.first_name, data.phone) == (ALICE, "Alice", "+8613800000000")
    assert data.draft is not None
    assert data.draft.data == {"kind": "report"}
    by_number = {own.case.tracking: own for own in data.cases}
    assert set(by_number) == {open_one, closed_one}  # Bob's case is not in it
    assert bobs not in by_number
    first = by_number[open_one]
    assert first.case.photos == ("photo-1", "photo-2", "p-9")
    assert first.case.location is not None
    assert first.case.location.address == "Heping Road 3, flat 12"
    assert [e.kind for e in first.timeline] == ["submitted", "citizen_added"]
    # Only the facts meant for the citizen: "submitted" carries its kind and category codes.
    assert first.timeline[0].payload == {}
    assert first.timeline[1].payload == {"text": "Photo of the thermometer", "photos": ["p-9"]}
    assert by_number[closed_one].case.status == "closed"
    nobody = await held_data(4242)
    assert (nobody.cases, nobody.draft, nobody.first_name, nobody.phone) == ((), None, "", None)


async def test_forget_closes_open_cases_and_erases_personal_data(
    alice_cases: tuple[str, str],
) -> None:
    open_one, closed_one = alice_cases
    bobs = await file(BOB)
    before = {t: await case_by_tracking(t) for t in alice_cases}

    report = await forget_citizen(ALICE, now=LATER)

    assert report == ForgetReport(cases_closed=1, cases_anonymized=2)
    for tracking in alice_cases:
        after = await case_by_tracking(tracking)
        was = before[tracking]
        # Personal data gone, and what they wrote (replaced by the erased marker).
        assert after.citizen_id is None
        assert after.phone is None
        assert after.location is None
        assert after.photos == ()
        assert (after.text, after.answers, after.erased_at) == ("", {}, LATER)
        # What statistics need, kept.
        assert after.status is CaseStatus.CLOSED
        assert not after.is_open
        assert (after.kind, after.category_code, after.department_code) == (
            was.kind,
            was.category_code,
            was.department_code,
        )
        assert (after.created_at, after.due_at) == (was.created_at, was.due_at)
        assert after.updated_at == LATER
        with pytest.raises(CaseNotFound):
            await case_of_citizen(tracking, ALICE)
        audit = await Event.filter(case__tracking=tracking, kind="personal_data_erased").get()
        assert audit.actor == "system"
        assert not audit.public
        assert audit.created_at == LATER

    withdrawn = await public_timeline(open_one)
    assert [e.kind for e in withdrawn] == ["submitted", "citizen_added", "withdrawn"]
    assert withdrawn[-1].actor == "citizen"
    assert withdrawn[1].payload == ERASED
    assert [e.kind for e in await public_timeline(closed_one)] == ["submitted"]
    closed_at = (
        await Case.filter(tracking__in=alice_cases)
        .order_by("id")
        .values_list("closed_at", flat=True)
    )
    assert closed_at == [LATER, FRIDAY_EVENING]  # only the open one was closed now
    linked = await Event.filter(case__tracking__in=alice_cases, actor_id=ALICE).count()
    assert linked == 0

    citizen = await Citizen.get(id=ALICE)
    assert citizen.phone is None
    assert citizen.first_name == ""
    assert citizen.language == "zh_Hans"  # kept: they may come back
    assert not await Draft.exists(citizen_id=ALICE)

    # Bob is untouched.
    assert (await case_of_citizen(bobs, BOB)).phone == "+8613800000000"
    assert (await Citizen.get(id=BOB)).first_name == "Bob"

    data = await held_data(ALICE)
    assert data.cases == ()
    assert data.draft is None
    assert (data.phone, data.first_name) == (None, "")


async def test_forget_twice_or_with_nothing_to_forget(alice_cases: tuple[str, str]) -> None:
    await forget_citizen(ALICE, now=LATER)
    events = await Event.all().count()
    assert await forget_citizen(ALICE, now=LATER) == ForgetReport(0, 0)
    assert await forget_citizen(4242, now=LATER) == ForgetReport(0, 0)
    assert await Event.all().count() == events
