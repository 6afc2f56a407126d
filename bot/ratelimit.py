"""Telegram's sending limits, kept on our side so Telegram never has to say 429.

Each limit is a sliding window (at most `count` sends in any `window` seconds), the same shape
as the limits Telegram states, so what we allow can be checked against what it allows.
A send stays in its windows from the moment it is allowed until its answer is back, and then
counts at the time of the answer: Telegram saw it somewhere in between, so counting it at the
later end can only be stricter. (Counting it when it was allowed let sends that were slow to
arrive, on a fresh connection, bunch up with the next window's.) Because of that, our window
need be no longer than Telegram's: any `count` sends Telegram sees within one window were, at
the moment the last of them was allowed, all still in ours.

Sends wait for the overall window in line, urgent ones (a reply to a person in conversation)
ahead of the rest (notices, cards); of every URGENT_RUN sends in a row, one goes to the rest
when some wait, so they are slowed by conversations but never stopped. The overall window is
also paced, a send every window/count seconds (with a little credit): a backlog that took the
whole window at once would take it again at once a window later, and a reply arriving between
would wait for the next window instead of the next slot.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from bot.settings import Settings

# Sends count until their answer is back, so arrival jitter cannot crowd Telegram's window;
# this margin is for a far side whose clock runs a little slow.
MARGIN = 1.005
IN_FLIGHT_POLL = 0.005
URGENT_RUN = 10
PACE_CREDIT = 3  # overall sends that may go back to back after a pause


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


class _Turn:
    """A send in line for the overall window; woken when it may be its turn."""

    __slots__ = ("urgent", "wake")

    def __init__(self, urgent: bool) -> None:
        self.urgent = urgent
        self.wake = asyncio.Event()


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
        self._spacing = overall.seconds * MARGIN / overall.count if overall else 0.0
        self._paced_until = -math.inf  # the next overall send may go from then on
        # Sends whose own chat has room, waiting for the overall window: urgent ones first.
        self._lines: tuple[deque[_Turn], deque[_Turn]] = (deque(), deque())
        self._urgent_run = 0  # urgent sends allowed in a row while others waited

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

    async def acquire(self, chat_id: int, *, urgent: bool = False) -> Slot:
        """Wait until one more send to `chat_id` fits; call `slot.done(now())` when answered.

        An `urgent` send takes the overall window before the others waiting for it."""
        slot = Slot()
        if not self.enabled:
            return slot
        chat_window = self._window_of(chat_id)
        # Its own chat first: one lane per chat sends, so nobody else waits on this window.
        while chat_window is not None:
            wait = chat_window.delay(self._clock())
            if wait <= 0:
                break
            await asyncio.sleep(wait)
        turn = _Turn(urgent)
        line = self._lines[0 if urgent else 1]
        line.append(turn)
        try:
            while True:
                if self._next_turn() is not turn:
                    turn.wake.clear()
                    await turn.wake.wait()
                    continue
                now = self._clock()
                wait = max(
                    self._overall.delay(now) if self._overall else 0.0,
                    chat_window.delay(now) if chat_window else 0.0,
                    self._paced_until - now,
                )
                if wait <= 0:
                    self._count_turn(urgent)
                    credit = now - (PACE_CREDIT - 1) * self._spacing
                    self._paced_until = max(self._paced_until, credit) + self._spacing
                    if self._overall:
                        self._overall.take(slot)
                    if chat_window:
                        chat_window.take(slot)
                    return slot
                turn.wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(turn.wake.wait(), wait)
        finally:
            line.remove(turn)
            following = self._next_turn()
            if following is not None:
                following.wake.set()

    def _next_turn(self) -> _Turn | None:
        """Whose turn it is at the overall window."""
        urgent, rest = self._lines
        if rest and (not urgent or self._urgent_run >= URGENT_RUN - 1):
            return rest[0]
        return urgent[0] if urgent else None

    def _count_turn(self, urgent: bool) -> None:
        waiting = bool(self._lines[1]) if urgent else False
        self._urgent_run = self._urgent_run + 1 if urgent and waiting else 0

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
