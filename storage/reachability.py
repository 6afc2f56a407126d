"""A citizen the bot can no longer reach (they blocked it, or their account is gone).

The outbox marks them when Telegram refuses a send for good; staff are told once, with the
citizen's open cases, since the cases go on and answers will wait in them for a citizen who
comes back. Writing again makes a citizen reachable (storage.citizens.touch_citizen), so the
next time they become unreachable staff are told again.
"""

from __future__ import annotations

from datetime import datetime

from storage.case_views import OPEN_STATUSES
from storage.citizens import mark_unreachable
from storage.models import Case
from storage.notice_queue import notify


async def citizen_unreachable(user_id: int, *, now: datetime, staff_chat_id: int | None) -> bool:
    """Mark the citizen unreachable; if that is news, tell the staff chat about their open
    cases (none open: nothing to tell). True if it was news."""
    if not await mark_unreachable(user_id):
        return False
    if staff_chat_id is None:
        return True
    trackings = (
        await Case.filter(citizen_id=user_id, status__in=list(OPEN_STATUSES))
        .order_by("created_at", "id")
        .values_list("tracking", flat=True)
    )
    if trackings:
        facts = {"trackings": [str(t) for t in trackings]}
        await notify(staff_chat_id, "staff_citizen_unreachable", facts, now=now)
    return True
