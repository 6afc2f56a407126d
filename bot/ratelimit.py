"""Telegram's sending limits, kept on our side so Telegram never has to say 429.

Each limit is a sliding window (at most `count` sends in any `window` seconds), the same shape
as the limits Telegram states, so what we allow can be checked against what it allows.
A send stays in its windows from the moment it is allowed until its answer is back, and then
counts at the time of the answer: Telegram saw it somewhere in between, so counting it at the
later end can only be stricter. (Counting it when it was allowed let sends that were slow to
arrive, on a fresh connection, bunch up with the next window's.)
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from bot.settings import Settings

# Arrival times jitter by the network: keep a margin so the far side never counts one too many.
MARGIN = 1.05
IN_FLIGHT_POLL = 0.005


@dataclass(frozen=True)
class Window:
    count: int
    seconds: float


class Slot:
    """One send in the windows it counts against; `at` is infinite while it is under way."""

    __slots__ = ("at",)

    def __init__(self) -> None:
        self.at = math.inf

    def done(self, at: float) -> None:
        self.at = at


class SlidingWindow:
    """The sends of one key; `delay()` says how long until one more send fits."""

    def __init__(self, window: Window) -> None:
        self.window = window
        self._slots: deque[Slot] = deque()

    def delay(self, now: float) -> float:
        span = self.window.seconds * MARGIN
        if len(self._slots) >= self.window.count:
            self._slots = deque(s for s in self._slots if now - s.at < span)
        if len(self._slots) < self.window.count:
            return 0.0
        finished = [s.at for s in self._slots if s.at != math.inf]
        return min(finished) + span - now if finished else IN_FLIGHT_POLL

    def take(self, slot: Slot) -> None:
        self._slots.append(slot)

    @property
    def quiet(self) -> bool:
        return not self._slots


class SendLimiter:
    """Overall, per-group and per-chat windows; `acquire(chat_id)` waits until a send fits."""

    def __init__(
        self,
        overall: Window | None,
        chat: Window | None,
        group: Window | None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._overall = SlidingWindow(overall) if overall else None
        self._chat = chat
        self._group = group
        self._per_chat: dict[int, SlidingWindow] = {}
        self._clock = clock
        self._lock = asyncio.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> SendLimiter:
        if not settings.rate_limits:
            return cls(None, None, None)
        scale = settings.rate_time_scale
        burst = settings.rate_chat_burst
        return cls(
            overall=Window(max(1, int(settings.rate_overall_per_second)), 1.0 / scale),
            chat=Window(burst, burst / settings.rate_chat_per_second / scale),
            group=Window(max(1, int(settings.rate_group_per_minute)), 60.0 / scale),
        )

    @property
    def enabled(self) -> bool:
        return self._overall is not None

    def now(self) -> float:
        return self._clock()

    def _window_of(self, chat_id: int) -> SlidingWindow | None:
        shape = self._group if chat_id < 0 else self._chat
        if shape is None:
            return None
        window = self._per_chat.get(chat_id)
        if window is None:
            window = self._per_chat[chat_id] = SlidingWindow(shape)
        return window

    async def acquire(self, chat_id: int) -> Slot:
        """Wait until one more send to `chat_id` fits; call `slot.done(now())` when answered."""
        slot = Slot()
        if not self.enabled:
            return slot
        chat_window = self._window_of(chat_id)
        while True:
            async with self._lock:
                now = self._clock()
                wait = max(
                    self._overall.delay(now) if self._overall else 0.0,
                    chat_window.delay(now) if chat_window else 0.0,
                )
                if wait <= 0:
                    if self._overall:
                        self._overall.take(slot)
                    if chat_window:
                        chat_window.take(slot)
                    return slot
            await asyncio.sleep(wait)

    def remember(self, chat_id: int, seconds_ago: float) -> None:
        """Count a send made `seconds_ago` (by another process) against the windows."""
        if not self.enabled:
            return
        slot = Slot()
        slot.done(self._clock() - seconds_ago)
        for window in (self._overall, self._window_of(chat_id)):
            if window is not None:
                window.take(slot)

    def forget_quiet(self) -> None:
        """Drop the windows of chats with nothing in them, so memory stays bounded."""
        now = self._clock()
        for key in [k for k, w in self._per_chat.items() if w.delay(now) == 0 and w.quiet]:
            del self._per_chat[key]
