"""A lane's read-ahead (storage.lane_reads): used on SQLite while the lane has written nothing,
read again once it has, and never on PostgreSQL, where other processes write."""

from __future__ import annotations

from datetime import timedelta

from tortoise.connection import get_connection
from tortoise.transactions import in_transaction

from storage.citizens import touch_citizen
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
