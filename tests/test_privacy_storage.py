"""Storage rules of the privacy issue that need no bot: who is offered as a duplicate, and what
erasure does to a published case."""

from __future__ import annotations

from dataclasses import replace

import pytest

from storage.duplicates import similar_open_cases
from storage.followers import follow
from storage.lifecycle import merge_case
from storage.models import Actor, Case, Event, OutboxMessage, StaffRole
from storage.privacy import forget_citizen
from storage.staff import StaffNotAuthorized, add_staff, ensure_admins
from tests.case_fixtures import ALICE, BOB, FRIDAY_EVENING, db, new_case, submit

__all__ = ["db"]


async def test_a_case_with_no_citizen_is_still_offered_as_a_duplicate(db: None) -> None:
    phoned = await submit(new_case(citizen_id=None, channel="phone", source="9001"))
    similar = await similar_open_cases(
        "heating.no-heat", new_case().text, None, now=FRIDAY_EVENING, exclude_citizen=BOB
    )
    assert [case.tracking for case in similar] == [phoned.tracking]
    mine = await similar_open_cases(
        "heating.no-heat", new_case().text, None, now=FRIDAY_EVENING, exclude_citizen=ALICE
    )
    assert [case.tracking for case in mine] == [phoned.tracking]


async def test_forgetting_withdraws_the_consent_to_publish(db: None) -> None:
    case = await submit(replace(new_case(), publish_consent=True))
    await Case.filter(tracking=case.tracking).update(
        public_text="Cold radiators in a residential building", public_note="Repaired"
    )
    await forget_citizen(ALICE, now=FRIDAY_EVENING)
    row = await Case.get(tracking=case.tracking)
    assert (row.publish_consent, row.public_text, row.public_note) == (False, None, None)


async def test_forgetting_erases_the_publication_events_and_tells_followers(db: None) -> None:
    case = await submit(replace(new_case(), publish_consent=True))
    row = await Case.get(tracking=case.tracking)
    await Event.create(
        case_id=row.id,
        kind="published",
        actor=Actor.STAFF,
        actor_id=9001,
        payload={"public_text": "Cold radiators at Heping Road 3"},
        created_at=FRIDAY_EVENING,
    )
    await follow(row.id, BOB, FRIDAY_EVENING)
    await forget_citizen(ALICE, now=FRIDAY_EVENING, keep_case_texts=True)
    published = await Event.get(case_id=row.id, kind="published")
    assert published.payload == {"erased": True}
    told = await OutboxMessage.filter(chat_id=BOB, method="notice").values_list(
        "payload", flat=True
    )
    assert {"kind": "followed_case_closed", "params": {"tracking": case.tracking}} in told


async def test_a_role_that_never_merges_hears_the_same_of_a_missing_and_an_existing_case(
    db: None,
) -> None:
    await ensure_admins([9001], now=FRIDAY_EVENING)
    await add_staff(9002, StaffRole.HANDLER, "heating-company", by=9001, now=FRIDAY_EVENING)
    one, two = await submit(), await submit(new_case(citizen_id=BOB))
    refusals = []
    for source in (one.tracking, "7KQM3XNAR9TD"):
        with pytest.raises(StaffNotAuthorized) as refused:
            await merge_case(source, two.tracking, by=9002, now=FRIDAY_EVENING)
        refusals.append(refused.value.reason)
    assert refusals == ["role", "role"]
