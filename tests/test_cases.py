"""Cases: submitting, limits, tracking, a citizen's list, additions and the public timeline."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from storage import cases
from storage.cases import (
    ADDRESS_MAX,
    DESCRIPTION_MAX,
    DESCRIPTION_MIN,
    Actor,
    CaseClosed,
    CaseKind,
    CaseLimitReached,
    CaseNotFound,
    CaseStatus,
    CategoryUnavailable,
    CitizenBlocked,
    CitizenNotFound,
    FieldOutOfLimits,
    Location,
    add_information,
    case_by_tracking,
    case_of_citizen,
    cases_of_citizen,
    public_timeline,
)
from storage.catalog import CategoryNotFound, category
from storage.models import Case, Citizen, Event, OutboxMessage
from storage.tracking import (
    format_tracking_number,
    is_valid_tracking_number,
    new_tracking_number,
)
from tests.case_fixtures import (
    ALICE,
    BOB,
    FRIDAY_EVENING,
    SHANGHAI,
    STAFF_CHAT,
    db,
    new_case,
    submit,
)

__all__ = ["db"]  # the fixture, asked for by name


async def notices() -> list[tuple[int | None, str, dict[str, Any]]]:
    rows = await OutboxMessage.filter(method="notice").order_by("id")
    return [(r.chat_id, r.payload["kind"], r.payload["params"]) for r in rows]


async def test_submit_creates_a_case_with_number_due_date_event_and_staff_notices(
    db: None,
) -> None:
    case = await submit()

    assert len(case.tracking) == 12
    assert is_valid_tracking_number(case.tracking)
    assert case.status is CaseStatus.SUBMITTED
    assert case.is_open
    assert case.citizen_id == ALICE
    assert case.kind is CaseKind.COMPLAINT
    assert case.category_code == "heating.no-heat"
    assert case.department_code is None  # set on acceptance
    assert case.proposed_department_code == (await category("heating.no-heat")).department_code
    assert case.proposed_department_code is not None
    assert case.photos == ("photo-1", "photo-2")
    assert case.location == Location(39.9, 116.4, "Heping Road 3, flat 12")
    assert case.answers == {"indoor_temp": 12, "since": "2025-01-06"}
    assert case.phone == "+8613800000000"
    assert not case.anonymous
    assert case.channel == "telegram"
    assert case.created_at == FRIDAY_EVENING == case.updated_at
    assert case.created_at.utcoffset() == timedelta(0)
    assert case.due_at == FRIDAY_EVENING + timedelta(hours=24)  # hours run over the weekend

    assert await case_by_tracking(case.tracking) == case
    assert await public_timeline(case.tracking) == [
        cases.EventView(
            "submitted",
            "citizen",
            {"kind": "complaint", "category": "heating.no-heat"},
            FRIDAY_EVENING,
        )
    ]
    assert await notices() == [
        (STAFF_CHAT, "staff_new_case", {"tracking": case.tracking}),
        (STAFF_CHAT, "staff_case_photos", {"tracking": case.tracking}),
    ]


async def test_working_day_limit_skips_the_weekend(db: None) -> None:
    case = await submit(new_case(category_code="heating.fees", kind=CaseKind.INQUIRY))
    # 5 working days from Friday 18:00 is the next Friday at 18:00, Shanghai time.
    assert case.due_at == datetime(2025, 1, 17, 18, 0, tzinfo=SHANGHAI)
    assert case.due_at is not None
    assert case.due_at.tzinfo is not None


async def test_without_photos_or_staff_chat_fewer_notices(db: None) -> None:
    plain = await submit(new_case(photos=(), location=None, phone=None, anonymous=True))
    assert plain.location is None
    assert plain.phone is None
    assert plain.anonymous
    assert await notices() == [(STAFF_CHAT, "staff_new_case", {"tracking": plain.tracking})]
    await submit(staff=None)
    assert len(await notices()) == 1


async def test_tracking_numbers_are_unique_and_collisions_retried(
    db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    numbers = {(await submit(limit=100)).tracking for _ in range(30)}
    assert len(numbers) == 30
    taken = next(iter(numbers))
    fresh = new_tracking_number()
    draws: Iterator[str] = iter([taken, taken, fresh])
    monkeypatch.setattr(cases, "new_tracking_number", lambda: next(draws))
    case = await submit(new_case(citizen_id=BOB))
    assert case.tracking == fresh
    assert await Case.all().count() == 31


async def test_daily_limit_counts_the_last_24_hours(db: None) -> None:
    start = FRIDAY_EVENING
    for i in range(5):
        await submit(now=start + timedelta(minutes=i))
    with pytest.raises(CaseLimitReached) as refused:
        await submit(now=start + timedelta(hours=1))
    assert refused.value.limit == 5
    assert await Case.filter(citizen_id=ALICE).count() == 5
    assert await OutboxMessage.all().count() == 10  # nothing of the refused one was written
    await submit(new_case(citizen_id=BOB), now=start + timedelta(hours=1))  # others unaffected
    # 24 hours after the first one, it no longer counts.
    await submit(now=start + timedelta(hours=24, seconds=1))


async def test_blocked_or_unknown_citizen_is_refused(db: None) -> None:
    await Citizen.filter(id=ALICE).update(blocked=True)
    with pytest.raises(CitizenBlocked):
        await submit()
    with pytest.raises(CitizenNotFound):
        await submit(new_case(citizen_id=4242))
    assert await Case.all().count() == 0
    assert await notices() == []


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"text": "x" * (DESCRIPTION_MIN - 1)}, "text"),
        ({"text": "x" * (DESCRIPTION_MAX + 1)}, "text"),
        ({"location": Location(None, None, "x" * (ADDRESS_MAX + 1))}, "address"),
    ],
)
async def test_every_channel_gets_the_same_limits(
    db: None, changes: dict[str, Any], field: str
) -> None:
    for citizen_id in (ALICE, None):  # the chat's citizen, or Open311 and phone intake
        with pytest.raises(FieldOutOfLimits) as refused:
            await submit(new_case(citizen_id=citizen_id, **changes))
        assert refused.value.field == field
    await submit(new_case(text="x" * DESCRIPTION_MAX))
    await submit(new_case(text="x" * DESCRIPTION_MIN, location=None))
    assert await Case.all().count() == 2


@pytest.mark.parametrize(
    ("code", "error"),
    [
        ("no-such-category", CategoryNotFound),
        ("heating", CategoryUnavailable),  # a domain
        ("gas.leak", CategoryUnavailable),  # an emergency: diverted, never filed
    ],
)
async def test_category_must_be_an_active_leaf(
    db: None, code: str, error: type[Exception]
) -> None:
    with pytest.raises(error):
        await submit(new_case(category_code=code))
    assert issubclass(error, CategoryNotFound)


async def test_retired_category_is_refused(db: None) -> None:
    from storage.models import Category

    await Category.filter(code="heating.fees").update(active=False)
    with pytest.raises(CategoryUnavailable):
        await submit(new_case(category_code="heating.fees"))


async def test_a_foreign_case_is_as_absent_as_a_missing_one(db: None) -> None:
    mine = await submit()
    theirs = await submit(new_case(citizen_id=BOB))
    assert await case_of_citizen(mine.tracking, ALICE) == mine
    typed = format_tracking_number(mine.tracking).lower()
    assert await case_of_citizen(typed, ALICE) == mine  # as a person types it

    missing = new_tracking_number()
    errors = []
    for tracking in (theirs.tracking, missing, "not a number"):
        with pytest.raises(CaseNotFound) as caught:
            await case_of_citizen(tracking, ALICE)
        errors.append(type(caught.value))
    assert errors == [CaseNotFound] * 3
    with pytest.raises(CaseNotFound):
        await case_by_tracking(missing)
    with pytest.raises(CaseNotFound):
        await public_timeline(missing)


async def test_cases_of_citizen_newest_first_in_pages(db: None) -> None:
    made = [await submit(now=FRIDAY_EVENING + timedelta(hours=i), limit=100) for i in range(12)]
    await submit(new_case(citizen_id=BOB))
    newest_first = [c.tracking for c in reversed(made)]

    pages = [await cases_of_citizen(ALICE, page=p) for p in range(4)]
    assert [total for _, total in pages] == [12] * 4
    assert [len(items) for items, _ in pages] == [5, 5, 2, 0]
    assert [c.tracking for items, _ in pages for c in items] == newest_first
    items, total = await cases_of_citizen(ALICE, page=1, per_page=10)
    assert total == 12
    assert [c.tracking for c in items] == newest_first[10:]
    assert await cases_of_citizen(9999, page=0) == ([], 0)
    with pytest.raises(ValueError, match="page"):
        await cases_of_citizen(ALICE, page=-1)


async def test_add_information_to_an_open_case(db: None) -> None:
    case = await submit()
    later = FRIDAY_EVENING + timedelta(hours=2)
    updated = await add_information(
        case.tracking,
        ALICE,
        text="It is 10 °C now.",
        photos=("photo-3",),
        now=later,
        staff_chat_id=STAFF_CHAT,
    )
    assert updated.photos == ("photo-1", "photo-2", "photo-3")
    assert updated.updated_at == later
    assert updated.status is CaseStatus.SUBMITTED
    assert (await Case.get(tracking=case.tracking)).version == 1

    timeline = await public_timeline(case.tracking)
    assert [e.kind for e in timeline] == ["submitted", "citizen_added"]
    assert timeline[1].actor == "citizen"
    assert timeline[1].payload == {"text": "It is 10 °C now.", "photos": ["photo-3"]}
    event = await Event.get(kind="citizen_added")
    assert event.actor_id == ALICE
    assert event.public
    assert (await notices())[-1] == (
        STAFF_CHAT,
        "staff_case_addition",
        {"tracking": case.tracking, "event_id": event.id},
    )

    text_only = await add_information(
        case.tracking, ALICE, text="Still cold.", photos=(), now=later, staff_chat_id=None
    )
    assert text_only.photos == updated.photos
    with pytest.raises(ValueError, match="nothing to add"):
        await add_information(
            case.tracking, ALICE, text=" ", photos=(), now=later, staff_chat_id=None
        )


async def test_add_information_refused_on_ended_or_foreign_cases(db: None) -> None:
    case = await submit()
    with pytest.raises(CaseNotFound):
        await add_information(
            case.tracking,
            BOB,
            text="Me too",
            photos=(),
            now=FRIDAY_EVENING,
            staff_chat_id=STAFF_CHAT,
        )
    for status in (CaseStatus.CLOSED, CaseStatus.REJECTED, CaseStatus.MERGED):
        await Case.filter(tracking=case.tracking).update(status=status)
        assert not (await case_by_tracking(case.tracking)).is_open
        with pytest.raises(CaseClosed):
            await add_information(
                case.tracking,
                ALICE,
                text="One more thing",
                photos=("p",),
                now=FRIDAY_EVENING,
                staff_chat_id=STAFF_CHAT,
            )
    assert await Event.filter(kind="citizen_added").count() == 0
    assert [kind for _, kind, _ in await notices()] == ["staff_new_case", "staff_case_photos"]


async def test_public_timeline_leaves_out_internal_events(db: None) -> None:
    case = await submit()
    row = await Case.get(tracking=case.tracking)
    for kind, public in (("note", False), ("accepted", True), ("escalated", False)):
        await Event.create(
            case=row,
            kind=kind,
            actor=Actor.STAFF,
            actor_id=7,
            payload={},
            public=public,
            created_at=FRIDAY_EVENING,
        )
    assert [e.kind for e in await public_timeline(case.tracking)] == ["submitted", "accepted"]


async def test_naive_times_are_refused(db: None) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        await submit(now=datetime(2025, 1, 10, 18, 0))  # noqa: DTZ001
    assert await Case.all().count() == 0
