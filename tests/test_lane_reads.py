"""A lane's read-ahead (storage.lane_reads): used on SQLite while the lane has written nothing,
read again once it has, and never on PostgreSQL, where other processes write."""

from __future__ import annotations

from datetime import timedelta

from tortoise.connection import get_connection
from tortoise.transactions import in_transaction

from storage.citizens import touch_citizen
from storage.drafts import Step, current_draft, set_draft
from storage.lane_reads import Arrival, lane_reads, reading_ahead
from storage.models import Citizen
from tests.staff_fixtures import NOW
from tests.staff_fixtures import db as db

CITIZEN = 700_001
WINDOW = timedelta(seconds=10)


async def test_a_lane_reads_ahead_until_it_writes(db: None) -> None:
    await Citizen.create(id=CITIZEN, language="en", first_name="Ann")
    arrivals = [Arrival(1, CITIZEN, CITIZEN, NOW)]
    sqlite = get_connection("default").capabilities.dialect == "sqlite"
    async with in_transaction(), reading_ahead(arrivals, window=WINDOW):
        reads = lane_reads()
        if not sqlite:
            assert reads is None
            return
        # None here means the SQLite connection's change count can no longer be read (a
        # Tortoise upgrade moved it): the read-ahead would be off without a word.
        assert reads is not None
        known, row = reads.citizen(CITIZEN)
        assert known
        assert row is not None
        assert row["first_name"] == "Ann"
        assert reads.draft(CITIZEN) == (True, None)
        await Citizen.filter(id=CITIZEN).update(first_name="Bo")
        assert reads.citizen(CITIZEN) == (False, None)  # written since: read again
        assert reads.draft(CITIZEN) == (False, None)
        seen = await touch_citizen(CITIZEN, first_name="Bo", guessed_language="en")
        assert seen.first_name == "Bo"


async def test_once_the_lane_wrote_a_user_is_read_again_in_one_query(db: None) -> None:
    await Citizen.create(id=CITIZEN, language="en", first_name="Ann")
    stranger = CITIZEN + 1  # no citizen row and no draft
    arrivals = [Arrival(1, CITIZEN, CITIZEN, NOW), Arrival(2, stranger, stranger, NOW)]
    sqlite = get_connection("default").capabilities.dialect == "sqlite"
    async with in_transaction(), reading_ahead(arrivals, window=WINDOW):
        reads = lane_reads()
        if not sqlite:
            assert reads is None
            return
        assert reads is not None
        await set_draft(CITIZEN, Step.KIND, {"kind": "complaint"}, now=NOW)
        await Citizen.filter(id=CITIZEN).update(first_name="Bo")
        assert reads.citizen(CITIZEN) == (False, None)
        await reads.reread(CITIZEN)
        known, row = reads.citizen(CITIZEN)
        assert known
        assert row is not None
        assert row["first_name"] == "Bo"
        draft = await current_draft(CITIZEN)
        assert draft is not None
        assert (draft.step, draft.data) == (Step.KIND, {"kind": "complaint"})
        assert draft.updated_at == NOW
        await reads.reread(stranger)
        assert reads.citizen(stranger) == (True, None)
        assert reads.draft(stranger) == (True, None)
        await Citizen.filter(id=CITIZEN).update(first_name="Cy")  # written again: read again
        assert reads.citizen(CITIZEN) == (False, None)
        assert reads.draft(stranger) == (False, None)
