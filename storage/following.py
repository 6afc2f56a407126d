"""Following a request by its number: the lookup audit and limit, and reading one addition.

Looking up someone else's number (or one that does not exist) is recorded, so staff can see who
guesses, and so each citizen gets only so many such lookups an hour (RELIABILITY rows 22-23).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from storage.case_views import EVENT_COLUMNS, EventView, event_view
from storage.models import Case, Event, OutboxMessage, TrackingLookup

LOOKUP_WINDOW = timedelta(hours=1)


async def record_failed_lookup(citizen_id: int, tracking: str, *, now: datetime) -> bool:
    """Record a lookup of a number that is not the citizen's; True if the case exists."""
    foreign = await Case.exists(tracking=tracking)
    await TrackingLookup.create(
        citizen_id=citizen_id, tracking=tracking, foreign=foreign, created_at=now
    )
    return foreign


async def failed_lookups(citizen_id: int, *, now: datetime) -> int:
    """How many numbers not theirs the citizen looked up in the last hour."""
    return await TrackingLookup.filter(
        citizen_id=citizen_id, created_at__gt=now - LOOKUP_WINDOW
    ).count()


async def addition(tracking: str, event_id: int) -> EventView | None:
    """A citizen's addition to a case, by its event id; None if it is not one of that case."""
    row = await (
        Event.filter(id=event_id, case__tracking=tracking, kind="citizen_added")
        .first()
        .values(*EVENT_COLUMNS)
    )
    return event_view(row) if row else None


async def sent_message(chat_id: int, message_id: int) -> tuple[str, dict[str, Any]] | None:
    """The method and payload of what the bot sent as `message_id` to a chat, if recorded.

    A notice keeps its facts (kind, params); any other call its Bot API parameters.
    """
    row = await (
        OutboxMessage.filter(chat_id=chat_id, message_id=message_id)
        .order_by("-id")
        .first()
        .values("method", "payload")
    )
    return (str(row["method"]), dict(row["payload"])) if row else None
