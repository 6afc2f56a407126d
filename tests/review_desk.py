"""A handler's reply under review: its card and text, and a case's status, for the staff tests."""

from __future__ import annotations

from typing import Any

from tests.databases import Database
from tests.following import Desk
from tests.harness import query
from tests.staff_desk import (
    card_of,
)

OTHER = 72_005  # a handler of another department (the gas company)
ANSWER = "We sent an engineer today; the heating in your building is back on since 14:00."


def status(db_path: Database, tracking: str) -> str:
    return str(
        query(db_path, "SELECT status FROM service_case WHERE tracking = ?", (tracking,))[0][0]
    )


async def review_card(d: Desk, count: int) -> dict[str, Any]:
    """The staff chat's `count`-th bot message: a review card."""
    await d.sandbox.wait_for_messages(d.staff, count, timeout=10)
    card = card_of(d)
    assert card["text"].startswith("Reply to review: ")
    return card
