"""Telegram's sending limits, kept on our side so Telegram never has to say 429.

Each limit is a sliding window (at most `count` sends in any `window` seconds), the same shape
as the limits Telegram states, so what we allow can be checked against what it allows.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from bot.settings import Settings

# Arrival times jitter by the network: keep a margin so the far side never counts one too many.
MARGIN = 1.08


@dataclass(frozen=True)
class Window:
    count: int
    seconds: float


class SlidingWindow:
    """Send times of one key; `delay()` says how long until one more send fits."""

    def __init__(self, window: Window) -> None:
        self.window = window
        self._times: deque[float] = deque()

    def delay(self, now: float) -> float:
        span = self.window.seconds * MARGIN
        while self._times and now - self._times[0] >= span:
            self._times.popleft()
        if len(self._times) < self.window.count:
            return 0.0
        return self._times[0] + span - now

    def take(self, now: float) -> None:
        self._times.append(now)


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

    def _window_of(self, chat_id: int) -> SlidingWindow | None:
        shape = self._group if chat_id < 0 else self._chat
        if shape is None:
            return None
        window = self._per_chat.get(chat_id)
        if window is None:
            window = self._per_chat[chat_id] = SlidingWindow(shape)
        return window

    def chat_delay(self, chat_id: int) -> float:
        """How long this chat must wait, without taking a slot (for scheduling)."""
        window = self._window_of(chat_id)
        return window.delay(self._clock()) if window else 0.0

    async def acquire(self, chat_id: int) -> None:
        if not self.enabled:
            return
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
                        self._overall.take(now)
                    if chat_window:
                        chat_window.take(now)
                    return
            await asyncio.sleep(wait)

    def forget_idle(self) -> None:
        """Drop windows of chats that have been quiet for a while (memory stays bounded)."""
        now = self._clock()
        idle = [k for k, w in self._per_chat.items() if w.delay(now) == 0 and not w._times]
        for key in idle:
            del self._per_chat[key]
