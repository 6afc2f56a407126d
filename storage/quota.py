"""Quotas counted in the database, so that every worker of the desk sees the same count.

A subject (an API key's filings, a client's reads) has fixed windows (a minute, a UTC day);
each use adds one to the window's row with a conditional upsert, which adds nothing once the
row holds the limit. All windows of one use are counted in one transaction: a use refused by
the day's quota does not count against the minute's either. Old windows are purged by the
retention sweep.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from tortoise.transactions import in_transaction

from storage.sql import fetch

MINUTE = timedelta(minutes=1)
DAY = timedelta(days=1)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Counts one use unless the window is full; no row back means it was full (and nothing changed).
_SPEND = (
    "INSERT INTO quota_use (subject, window_start, count) VALUES (?, ?, 1)"
    " ON CONFLICT (subject, window_start) DO UPDATE SET count = quota_use.count + 1"
    " WHERE quota_use.count < ? RETURNING count"
)


@dataclass(frozen=True)
class Window:
    name: str  # part of the subject: "minute", "day"
    length: timedelta
    limit: int


class QuotaExceeded(Exception):
    """A window of the subject is full; `retry_after` seconds until it ends."""

    def __init__(self, subject: str, window: Window, retry_after: int) -> None:
        super().__init__(f"{subject}: {window.limit} a {window.name}")
        self.window = window
        self.retry_after = retry_after


def window_start(now: datetime, length: timedelta) -> datetime:
    """The start of the fixed window of `length` that holds `now` (counted from the epoch)."""
    return _EPOCH + ((now - _EPOCH) // length) * length


async def spend(subject: str, windows: Sequence[Window], *, now: datetime) -> None:
    """Count one use of `subject` in each window; QuotaExceeded (and nothing counted) if full.

    Subjects hold no personal data in the clear: callers pass a key's id or a hashed address.
    """
    async with in_transaction():
        for window in windows:
            start = window_start(now, window.length)
            counted = window.limit > 0 and await fetch(
                _SPEND, f"{subject}:{window.name}", start, window.limit
            )
            if not counted:
                ends = (start + window.length - now).total_seconds()
                # Raised inside the transaction: the windows counted before it roll back.
                raise QuotaExceeded(subject, window, max(1, math.ceil(ends)))
