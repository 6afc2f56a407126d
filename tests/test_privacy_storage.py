"""Storage rules of the privacy issue that need no bot: who is offered as a duplicate, and what
erasure does to a published case."""

from __future__ import annotations

from dataclasses import replace

from storage.duplicates import similar_open_cases
from storage.models import Case
from storage.privacy import forget_citizen
from tests.test_cases import ALICE, BOB, FRIDAY_EVENING, db, new_case, submit

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
