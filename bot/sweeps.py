"""Sweeps: the jobs that time drives (reminders, expiry, deadlines), read from the database.

There are no in-memory timers: each sweep asks the database what is due now and does it in a
transaction that also records that it was done, so a restart loses nothing and a sweep that
runs twice sends nothing twice.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from bot.context import Services
from storage.callback_queue import queue_callbacks
from storage.deadline_sweeps import (
    escalate_overdue,
    escalate_unaccepted,
    remind_due,
    send_overdue_list,
)
from storage.digest import send_weekly_digest
from storage.drafts import discard_abandoned_drafts, remind_idle_drafts
from storage.rating_sweeps import close_unrated, remind_unrated
from storage.retention import retention_sweep

log = logging.getLogger(__name__)

DRAFT_REMIND_AFTER = timedelta(hours=24)
DRAFT_DISCARD_AFTER = timedelta(days=7)

Sweep = Callable[[datetime], Awaitable[int]]  # does what is due at `now`; returns how much


def all_sweeps(services: Services) -> dict[str, Sweep]:
    """Every sweep, by name, in the order they run."""
    settings = services.settings
    staff_chat = settings.staff_chat_id
    overdue_list = functools.partial(
        send_overdue_list,
        staff_chat_id=staff_chat,
        zone=settings.zone,
        at=settings.overdue_list_time,
    )
    weekly_digest = functools.partial(
        send_weekly_digest,
        staff_chat_id=staff_chat,
        zone=settings.zone,
        schedule=settings.digest_at,
    )
    return {
        # Unfinished requests: discarded after 7 days (told once), reminded once after 24 h.
        # Discarding runs first, so a draft idle for a week is not reminded on its way out.
        "drafts_discard": functools.partial(discard_abandoned_drafts, idle=DRAFT_DISCARD_AFTER),
        "drafts_remind": functools.partial(remind_idle_drafts, idle=DRAFT_REMIND_AFTER),
        # Answers nobody rated: closed as "no feedback" after 7 days, reminded once after 3
        # (closing first, for the same reason as above).
        "rating_close": close_unrated,
        "rating_remind": remind_unrated,
        # Answers the chat cannot get rated, or still unrated after the reminder: into the
        # clerks' callback queue (回访) on the next working day (storage.callback_queue).
        "callback_queue": functools.partial(queue_callbacks, calendar=services.calendar),
        # Time limits (storage.deadline_sweeps): unaccepted cases past their limit, escalation
        # at the due date, the 75 % reminder (after escalation, so a case found already overdue
        # is escalated, not reminded), and the daily overdue list.
        "deadline_accept": functools.partial(escalate_unaccepted, staff_chat_id=staff_chat),
        "deadline_escalate": functools.partial(escalate_overdue, staff_chat_id=staff_chat),
        "deadline_remind": functools.partial(remind_due, staff_chat_id=staff_chat),
        "deadline_overdue_list": overdue_list,
        # The weekly digest (民声摘报) of the past week, once the configured time has come.
        "weekly_digest": weekly_digest,
        # Raw payloads and spent records purged after MINSHENG_RETENTION_DAYS (at most hourly).
        "retention": functools.partial(retention_sweep, days=settings.retention_days),
    }


class Sweeper:
    def __init__(self, services: Services, interval: float, on_work: Callable[[], None]) -> None:
        self._services = services
        self._interval = interval
        self._on_work = on_work
        self._sweeps = all_sweeps(services)
        self.runs = 0
        self.last_run: float = 0.0

    async def run_once(self) -> int:
        """Run every sweep once; a failing sweep is logged and does not stop the others."""
        done = 0
        self._services.metrics.beat("sweeper")
        for name, sweep in self._sweeps.items():
            try:
                done += await sweep(self._services.clock.now())
            except Exception:
                log.exception("sweep %s failed", name)
                self._services.metrics.sweep_ran(name, ok=False)
            else:
                self._services.metrics.sweep_ran(name, ok=True)
        self.runs += 1
        self.last_run = asyncio.get_running_loop().time()
        if done:
            self._on_work()
        return done

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await self.run_once()
            try:
                await asyncio.wait_for(stop.wait(), timeout=self._interval)
            except TimeoutError:
                continue
