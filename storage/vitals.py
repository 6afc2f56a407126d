"""The figures an operator watches: what waits in the inbox and outbox, cases by status.

Each is one query over an indexed column, cheap enough for a health probe every few seconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from storage.models import InboxStatus
from storage.outbox import OPEN
from storage.sql import as_datetime, fetch


@dataclass(frozen=True)
class Backlog:
    """Rows waiting, and how long the oldest has waited (None when none waits)."""

    waiting: int
    oldest_age: float | None

    def as_json(self) -> dict[str, float | int | None]:
        age = None if self.oldest_age is None else round(self.oldest_age, 3)
        return {"waiting": self.waiting, "oldest_age_seconds": age}


async def outbox_backlog(now: datetime) -> Backlog:
    """Outbox rows not yet sent nor given up."""
    rows = await fetch(
        "SELECT count(*) AS n, min(created_at) AS oldest FROM outbox_message"
        " WHERE status IN (?, ?)",
        *(s.value for s in OPEN),
    )
    return _backlog(rows[0], now)


async def inbox_backlog(now: datetime) -> Backlog:
    """Stored updates not yet handled."""
    rows = await fetch(
        "SELECT count(*) AS n, min(received_at) AS oldest FROM inbox_update WHERE status = ?",
        InboxStatus.PENDING.value,
    )
    return _backlog(rows[0], now)


async def cases_by_status() -> dict[str, int]:
    """How many cases are in each status, in one grouped query."""
    rows = await fetch("SELECT status, count(*) AS n FROM service_case GROUP BY status")
    return {str(r["status"]): int(r["n"]) for r in rows}


def _backlog(row: dict[str, object], now: datetime) -> Backlog:
    count = int(str(row["n"] or 0))
    oldest = row["oldest"]
    if not count or oldest is None:
        return Backlog(count, None)
    return Backlog(count, max(0.0, (now - as_datetime(oldest)).total_seconds()))
