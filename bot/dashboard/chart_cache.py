"""The statistics page's charts, drawn once per period, scope and language and kept a while.

A page shows three charts, which the browser asks for at once; each request used to draw all
three. Now the first request draws them, the others wait for that drawing, and later pages of
the same period take them from the cache until it is CACHE_FOR old.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

CACHE_FOR = timedelta(minutes=5)

ChartKey = tuple[datetime, datetime, str | None, str]


class ChartCache:
    """A period's three charts, drawn once and kept for CACHE_FOR, per period, scope and
    language. Requests that arrive while they are drawn wait for that drawing, not a second one.

    The figures may lag by up to CACHE_FOR; the page's own table is always current.
    """

    def __init__(self, clock: Callable[[], datetime], keep: timedelta = CACHE_FOR) -> None:
        self._clock = clock
        self._keep = keep
        self._kept: dict[ChartKey, tuple[datetime, asyncio.Future[list[bytes]]]] = {}

    async def charts(
        self, key: ChartKey, draw: Callable[[], Awaitable[list[bytes]]]
    ) -> list[bytes]:
        now = self._clock()
        self._kept = {k: kept for k, kept in self._kept.items() if kept[0] > now}
        kept = self._kept.get(key)
        if kept is None:
            kept = (now + self._keep, asyncio.ensure_future(draw()))
            self._kept[key] = kept
        try:
            return await asyncio.shield(kept[1])
        except Exception:
            self._kept.pop(key, None)  # a failed drawing is not kept
            raise
