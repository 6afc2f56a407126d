"""The outbox sender: the one place that sends to Telegram, within its limits, until it lands.

Each chat's messages go out in the order they were queued; different chats go out in parallel.
Rows are read once (by id, past a cursor) into per-chat queues (bot.send_queues); a send that
must be retried goes back to the head of its chat's queue, so the chat waits and its order
holds. Outcomes are written back in batches: a crash between a send and its record re-sends
that one message. At most `UNRECORDED_PER_LANE` × concurrency sends wait for their record at
once (lanes pause when the database falls behind), so one crash re-sends at most that many
messages, however slow the disk.

A person in conversation goes ahead of a storm of notices: a chat whose queue holds a reply to
its own update (an urgent row) gets its lane first, even when every lane is taken (up to
URGENT_LANES more), and its sends take the overall window before the notices waiting for it
(bot.ratelimit). The notices keep `concurrency` lanes beside the urgent ones, so they slow down
but never stop. Its messages still go in their order, and every limit holds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from datetime import datetime

from telegram import Bot

from bot.clock import Clock
from bot.context import Services
from bot.delivery import LIMITED_METHODS, TopicLost, deliver
from bot.metrics import Metrics
from bot.notice_rendering import NoticeRenderer
from bot.ratelimit import SendLimiter
from bot.send_queues import ChatQueues
from bot.staff_topics import TopicKeeper
from bot.waiting import wait_any
from storage.notice_queue import NOTICE_METHOD
from storage.outbox import Outcome, Outgoing, SendResult, open_messages_after, recent_sends
from storage.send_results import record_results

log = logging.getLogger(__name__)

FLUSH_EVERY = 0.02
MAX_QUEUED = 20_000  # rows held in memory at once; the rest wait in the database
IDLE_POLL = 2.0  # seconds between looks at the database when nobody wakes us
UNRECORDED_PER_LANE = 3  # sends made but not yet recorded, per lane, before lanes pause
URGENT_LANES = 64  # lanes for chats in conversation beyond `concurrency`
FULL_POLL = 0.05  # seconds between looks for a free lane when all are taken
DRAIN_STEP = 0.05  # seconds between a draining sender's looks at what is left

# Stores a batch of outcomes (storage.send_results), or has the bot's process store it.
Recorder = Callable[[Sequence[SendResult]], Awaitable[None]]


def desk_sender(
    services: Services,
    bot: Bot,
    limiter: SendLimiter,
    *,
    metrics: Metrics,
    topics: TopicKeeper | None = None,
    record: Recorder | None = None,
    topic_lost: TopicLost | None = None,
) -> Sender:
    """The desk's sender, as its settings say, rendering notices in each recipient's language."""
    settings = services.settings
    return Sender(
        bot,
        services.clock,
        limiter,
        NoticeRenderer(services),
        concurrency=settings.send_concurrency,
        staff_chat_id=settings.staff_chat_id,
        metrics=metrics,
        topics=topics,
        record=record,
        topic_lost=topic_lost,
    )


async def remember_recent_sends(limiter: SendLimiter, now: datetime) -> None:
    """Count against the limits what was sent in the last minute, by another process (the
    last leader, the last sender's process) or before a restart."""
    for chat_id, sent_at in await recent_sends(now):
        limiter.remember(chat_id, (now - sent_at).total_seconds())


class Sender:
    """Reads outbox rows, sends them chat by chat, records the outcomes."""

    def __init__(
        self,
        bot: Bot,
        clock: Clock,
        limiter: SendLimiter,
        render: Callable[[Outgoing], Awaitable[Outgoing]],
        *,
        concurrency: int,
        batch: int = 1000,
        staff_chat_id: int | None = None,
        metrics: Metrics | None = None,
        topics: TopicKeeper | None = None,
        record: Recorder | None = None,
        topic_lost: TopicLost | None = None,
    ) -> None:
        self._bot = bot
        self._topics = topics  # the staff forum's department topics (bot.staff_topics)
        self._staff_chat_id = staff_chat_id  # told when a citizen becomes unreachable
        # In a process of its own, the sender has the bot's process record its outcomes and
        # handle a lost topic (bot.sender_child): only that process writes to SQLite.
        self._record = record or self._record_here
        self._on_topic_lost = topic_lost or self._topic_lost
        self._render = render
        self._clock = clock
        self.limiter = limiter
        self._concurrency = concurrency
        self._batch = batch
        self._wake = asyncio.Event()
        self._fresh = True  # new rows may be in the database: read past the cursor
        self._looked = 0.0  # loop time of the last read of the database
        self._pumps = 0
        self._waiting = ChatQueues()
        self._busy: set[int | None] = set()  # chats with a lane running
        self._results: list[SendResult] = []
        self._unrecorded = 0  # sends made or under way whose outcome is not yet committed
        self._max_unrecorded = UNRECORDED_PER_LANE * concurrency
        self._recorded = asyncio.Event()  # set after each flush: lanes waiting for room go on
        self._stopping = False
        self.stop_wait = 5.0  # seconds the sends under way may take once told to stop
        self._lanes: set[asyncio.Task[None]] = set()
        # Lanes started for chats in conversation: the other chats (notices) keep
        # `concurrency` lanes of their own beside them, so a crowd in conversation, each chat
        # holding its lane through the second between its messages, never stops the notices.
        self._urgent: set[asyncio.Task[None]] = set()
        self.sent = 0
        self.metrics = metrics or Metrics()

    @property
    def idle(self) -> bool:
        """Nothing queued and nothing under way."""
        return self._waiting.queued == 0 and not self._lanes

    def wake(self) -> None:
        """New rows were committed: read them and send."""
        self._fresh = True
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        """Send until told to stop; then let the sends under way finish and record them."""
        flushing = asyncio.Event()
        flusher = asyncio.create_task(self._flush_loop(flushing))
        # The departments' topics, opened beside the sending (Telegram may pace them).
        opening = asyncio.create_task(self._topics.ensure(stop)) if self._topics else None
        try:
            while not stop.is_set():
                self.metrics.beat("sender")
                self._wake.clear()
                try:
                    idle_for = await self.pump()
                except Exception:
                    log.exception("outbox pump failed; trying again shortly")
                    idle_for = 1.0
                if idle_for > 0:
                    await wait_any(self._wake, stop, seconds=idle_for)
                if not self._wake.is_set():
                    self._fresh = True  # woken by time alone: look at the database again
        finally:
            # Never cancel a task that may be inside a transaction: SQLite's lock would leak.
            flushing.set()
            await asyncio.gather(flusher, *filter(None, [opening]), return_exceptions=True)
            await self.stop_and_flush(self.stop_wait)

    async def stop_and_flush(self, wait: float = 5.0) -> None:
        """Let the sends under way finish (briefly), then record every outcome."""
        self._stopping = True  # lanes finish the send in hand and start no other
        self._recorded.set()
        await self.flush()
        if self._lanes:
            await asyncio.wait(self._lanes, timeout=wait)
        await self.flush()

    async def drain(self, deadline: float) -> None:
        """Send what is queued until the loop's time reaches `deadline`, within the limits,
        then record every outcome (a stopping bot's last sends)."""
        loop = asyncio.get_running_loop()
        while loop.time() < deadline:
            idle_for = await self.pump()
            await self.flush()  # lanes pause while too many sends await their record
            if self.idle:
                break
            await asyncio.sleep(min(idle_for, DRAIN_STEP))
        await self.stop_and_flush(wait=max(0.5, min(5.0, deadline - loop.time())))

    async def pump(self) -> float:
        """Read new rows, start a lane for every idle chat whose head is due; say how long to
        sleep when nothing more can start now."""
        # Busy lanes wake us without new rows; rows nobody woke us for (a sweep's) are read
        # at least every IDLE_POLL all the same.
        looked = asyncio.get_running_loop().time()
        self._fresh = self._fresh or looked - self._looked >= IDLE_POLL
        if self._fresh and self._waiting.queued < MAX_QUEUED:
            self._fresh = False
            self._looked = looked
            rows = await open_messages_after(self._waiting.cursor, self._batch)
            self._waiting.add(rows)
            # A full batch: there may be more. A wake() during the read stays set.
            self._fresh = self._fresh or len(rows) >= self._batch
        self._pumps += 1
        if self._pumps % 1000 == 0:
            self.limiter.forget_quiet()
        now = self._clock.now()
        next_due = self._start_lanes(
            list(self._waiting.hurry), now, self._concurrency + URGENT_LANES
        )
        for chat_id, queue in list(self._waiting.by_chat.items()):
            if chat_id in self._busy:
                continue  # its lane may put a retry back into this very queue
            if not queue:
                del self._waiting.by_chat[chat_id]
                continue
            wait = (queue[0].next_attempt_at - now).total_seconds()
            if wait > 0:
                next_due = min(next_due, wait)
            elif len(self._lanes) - len(self._urgent) < self._concurrency:
                self._start_lane(chat_id)
            else:
                # The chats further on cannot start either; a lane ending wakes us sooner.
                return min(next_due, FULL_POLL)
        return next_due

    def _start_lanes(self, chats: list[int | None], now: datetime, lanes: int) -> float:
        """Start a lane for each chat in conversation whose head is due, while fewer than
        `lanes` run; say how long until one could start."""
        next_due = IDLE_POLL
        for chat_id in chats:
            queue = self._waiting.by_chat.get(chat_id)
            if not queue or not any(item.urgent for item in queue):
                del self._waiting.hurry[chat_id]
            elif chat_id in self._busy:
                continue
            elif (wait := (queue[0].next_attempt_at - now).total_seconds()) > 0:
                next_due = min(next_due, wait)
            elif len(self._lanes) < lanes:
                self._start_lane(chat_id, urgent=True)
            else:
                next_due = min(next_due, FULL_POLL)
        return next_due

    def _start_lane(self, chat_id: int | None, *, urgent: bool = False) -> None:
        if chat_id is not None:
            self._busy.add(chat_id)
        task = asyncio.create_task(self._lane(chat_id))
        self._lanes.add(task)
        if urgent:
            self._urgent.add(task)
        task.add_done_callback(self._lane_done)

    def _lane_done(self, task: asyncio.Task[None]) -> None:
        self._lanes.discard(task)
        self._urgent.discard(task)
        self._wake.set()  # a chat is free again: schedule, without reading the database

    async def _lane(self, chat_id: int | None) -> None:
        queue = self._waiting.by_chat.get(chat_id)
        try:
            # Calls without a chat keep no order among themselves: one each, side by side.
            while await self._room_to_send():
                # Checked after the wait: lanes of calls without a chat share one queue.
                if not queue or queue[0].next_attempt_at > self._clock.now():
                    break
                item = self._waiting.take(queue)
                if item.method == NOTICE_METHOD:
                    try:
                        item = await self._render(item)
                    except Exception as exc:
                        log.exception("notice %s could not be rendered", item.id)
                        self._unrecorded += 1
                        self._results.append(
                            SendResult(
                                item.id, Outcome.FAILED, item.chat_id, error=f"render: {exc!r}"
                            )
                        )
                        continue
                self._unrecorded += 1
                slot = None
                if chat_id is not None and item.method in LIMITED_METHODS:
                    # Urgent too when a reply waits behind it: the chat's order holds.
                    urgent = item.urgent or any(later.urgent for later in queue)
                    slot = await self.limiter.acquire(chat_id, urgent=urgent)
                    if self._stopping:
                        # Told to stop while waiting for its turn: a send now could not be
                        # recorded any more (the last flush may be over), and would go again
                        # after a restart. The row stays open for the next sender.
                        slot.done(self.limiter.now())
                        self._unrecorded -= 1
                        break
                try:
                    result = await deliver(self._bot, item, self._clock, self._on_topic_lost)
                finally:
                    if slot is not None:
                        slot.done(self.limiter.now())
                if item.secret:  # a sign-in link: its stored copy goes once it has ended
                    result = replace(result, secret=True)
                self._results.append(result)
                if self._waiting.settle(item, result, queue, self._clock.now()) or chat_id is None:
                    break
        finally:
            self._busy.discard(chat_id)

    async def _record_here(self, results: Sequence[SendResult]) -> None:
        await record_results(results, now=self._clock.now(), staff_chat_id=self._staff_chat_id)

    async def _topic_lost(self, chat_id: int, thread_id: int, deleted: bool) -> None:
        if self._topics is not None:
            await self._topics.lost(chat_id, thread_id, deleted)
            self.wake()  # the supervisors' notice was queued

    async def _room_to_send(self) -> bool:
        """Wait while too many sends await their record; False once the sender is stopping."""
        while self._unrecorded >= self._max_unrecorded and not self._stopping:
            self._recorded.clear()
            await self._recorded.wait()
        return not self._stopping

    async def _flush_loop(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=FLUSH_EVERY)
            try:
                await self.flush()
            except Exception:
                log.exception("recording send outcomes failed; will retry")

    async def flush(self) -> None:
        """Record the outcomes gathered so far (the run loop does this every FLUSH_EVERY)."""
        if not self._results:
            return
        results, self._results = self._results, []
        try:
            await self._record(results)
        except Exception:
            self._results = results + self._results
            raise
        self._unrecorded -= len(results)
        self._recorded.set()
        self.sent += sum(1 for r in results if r.outcome is Outcome.SENT)
        self.metrics.sends_recorded(results)
