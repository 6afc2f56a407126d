"""The outbox sender: the one place that sends to Telegram, within its limits, until it lands.

Each chat's messages go out in the order they were queued; different chats go out in parallel.
A message whose send failed blocks its chat until it is retried, so the order holds.
Outcomes are written back in batches: a crash between a send and its record re-sends it once.
"""

from __future__ import annotations

import asyncio
import logging
import random
import warnings
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from telegram import Bot
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)

from bot.clock import Clock
from bot.ratelimit import SendLimiter
from bot.transport import ConnectTimedOut
from storage.outbox import Outcome, Outgoing, SendResult, due_messages, record_results

log = logging.getLogger(__name__)

# Calls that put a message in a chat count against Telegram's per-chat and overall limits.
LIMITED_METHODS = frozenset(
    {"sendMessage", "sendPhoto", "sendDocument", "sendMediaGroup", "sendLocation", "copyMessage"}
)
TEXT_LIMIT = 4096
GIVE_UP_AFTER = timedelta(hours=24)
FLUSH_EVERY = 0.02


class Sender:
    """Reads due outbox rows, sends them, records the outcome."""

    def __init__(
        self, bot: Bot, clock: Clock, limiter: SendLimiter, *, concurrency: int, batch: int = 500
    ) -> None:
        self._bot = bot
        self._clock = clock
        self._limiter = limiter
        self._slots = asyncio.Semaphore(concurrency)
        self._batch = batch
        self._wake = asyncio.Event()
        self._busy: set[int | None] = set()  # chats with a lane running or results unrecorded
        self._inflight: set[int] = set()  # outbox ids sent but not yet recorded
        self._results: list[SendResult] = []
        self._release: set[int | None] = set()
        self._lanes: set[asyncio.Task[None]] = set()
        self.sent = 0
        self.last_pump: float = 0.0

    def wake(self) -> None:
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        """Send until told to stop; then finish the lanes under way and record them."""
        flusher = asyncio.create_task(self._flush_loop(stop))
        try:
            while not stop.is_set():
                self._wake.clear()
                try:
                    idle_for = await self.pump()
                except Exception:
                    log.exception("outbox pump failed; trying again shortly")
                    idle_for = 1.0
                if idle_for > 0:
                    await _wait_any(self._wake, stop, idle_for)
        finally:
            flusher.cancel()
            await asyncio.gather(flusher, return_exceptions=True)
            await self.stop_and_flush()

    async def stop_and_flush(self, timeout: float = 5.0) -> None:
        """Let the sends under way finish (briefly), then record every outcome."""
        if self._lanes:
            await asyncio.wait(self._lanes, timeout=timeout)
        await self._flush()

    async def pump(self) -> float:
        """Start lanes for chats with due messages; return how long to sleep if idle."""
        self.last_pump = asyncio.get_running_loop().time()
        now = self._clock.now()
        due, next_due = await due_messages(now, self._batch + len(self._inflight))
        by_chat: dict[int | None, list[Outgoing]] = defaultdict(list)
        for row in due:
            if row.id not in self._inflight:
                by_chat[row.chat_id].append(row)
        started = 0
        for chat_id, items in by_chat.items():
            if chat_id is not None and chat_id in self._busy:
                continue
            self._inflight.update(item.id for item in items)
            if chat_id is None:  # no order to keep: each call on its own
                for item in items:
                    self._start_lane(None, [item])
            else:
                self._busy.add(chat_id)
                self._start_lane(chat_id, items)
            started += 1
        if started:
            return 0.005 if len(due) >= self._batch else 0.5
        return min(5.0, utc_seconds_until(next_due, now)) if next_due else 5.0

    def _start_lane(self, chat_id: int | None, items: list[Outgoing]) -> None:
        task = asyncio.create_task(self._lane(chat_id, items))
        self._lanes.add(task)
        task.add_done_callback(self._lanes.discard)

    async def _lane(self, chat_id: int | None, items: list[Outgoing]) -> None:
        async with self._slots:
            try:
                for index, item in enumerate(items):
                    if chat_id is not None and item.method in LIMITED_METHODS:
                        await self._limiter.acquire(chat_id)
                    result = await self._send(item)
                    self._results.append(result)
                    if result.outcome is not Outcome.SENT:
                        # keep the chat's order: the rest waits for this one
                        self._inflight.difference_update(i.id for i in items[index + 1 :])
                        break
            finally:
                self._release.add(chat_id)

    async def _flush_loop(self, stop: asyncio.Event) -> None:
        while True:
            await asyncio.sleep(FLUSH_EVERY)
            try:
                await self._flush()
            except Exception:
                log.exception("recording send outcomes failed; will retry")

    async def _flush(self) -> None:
        if not self._results and not self._release:
            return
        results, self._results = self._results, []
        release, self._release = self._release, set()
        try:
            await record_results(results, now=self._clock.now())
        except Exception:
            self._results = results + self._results
            self._release |= release
            raise
        self.sent += sum(1 for r in results if r.outcome is Outcome.SENT)
        self._inflight.difference_update(r.outbox_id for r in results)
        self._busy.difference_update(release)
        self.wake()

    async def _send(self, item: Outgoing) -> SendResult:
        params: dict[str, Any] = dict(item.payload)
        if item.chat_id is not None:
            params["chat_id"] = item.chat_id
        try:
            answer = await self._call(item.method, params)
        except TelegramError as exc:
            return self._classify(item, exc)
        message_id = answer.get("message_id") if isinstance(answer, dict) else None
        return SendResult(item.id, Outcome.SENT, item.chat_id, message_id=message_id)

    async def _call(self, method: str, params: dict[str, Any]) -> Any:
        try:
            return await self._bot.do_api_request(method, api_kwargs=params)
        except BadRequest as exc:
            text = str(params.get("text", ""))
            if "can't parse entities" in exc.message.lower() and "parse_mode" in params:
                plain = {k: v for k, v in params.items() if k not in ("parse_mode", "entities")}
                return await self._bot.do_api_request(method, api_kwargs=plain)
            if "message is too long" in exc.message.lower() and method == "sendMessage" and text:
                return await self._send_in_parts(params, text)
            raise

    async def _send_in_parts(self, params: dict[str, Any], text: str) -> Any:
        answer: Any = None
        for part in split_text(text, TEXT_LIMIT):
            answer = await self._bot.do_api_request("sendMessage", api_kwargs={**params, "text": part})
        return answer

    def _classify(self, item: Outgoing, exc: TelegramError) -> SendResult:
        """Map Telegram's answer to what the outbox does next (BadRequest before NetworkError)."""
        now = self._clock.now()
        if isinstance(exc, RetryAfter):
            wait = retry_after_seconds(exc) + random.uniform(0.05, 0.5)  # noqa: S311
            return SendResult(item.id, Outcome.RETRY, item.chat_id, error=str(exc),
                              retry_at=now + timedelta(seconds=wait), counts_as_attempt=False)
        if isinstance(exc, ChatMigrated):
            return SendResult(item.id, Outcome.MIGRATED, item.chat_id,
                              new_chat_id=int(exc.new_chat_id), error=str(exc))
        if isinstance(exc, Forbidden):
            log.warning("chat %s is unreachable: %s", item.chat_id, exc.message)
            return SendResult(item.id, Outcome.UNREACHABLE, item.chat_id, error=exc.message)
        if isinstance(exc, BadRequest):
            if "message is not modified" in exc.message.lower():
                return SendResult(item.id, Outcome.SENT, item.chat_id)
            log.error("outbox %s refused by Telegram: %s", item.id, exc.message)
            return SendResult(item.id, Outcome.FAILED, item.chat_id, error=exc.message)
        if now - item.next_attempt_at > GIVE_UP_AFTER or item.attempts >= 200:
            log.error("outbox %s given up after %s attempts: %s", item.id, item.attempts, exc)
            return SendResult(item.id, Outcome.FAILED, item.chat_id, error=f"gave up: {exc}")
        retry_at = now + timedelta(seconds=backoff(item.attempts))
        if isinstance(exc, TimedOut) and not isinstance(exc, ConnectTimedOut):
            return SendResult(item.id, Outcome.UNCERTAIN, item.chat_id, retry_at=retry_at,
                              error="timed out; may have been delivered")
        if isinstance(exc, InvalidToken | NetworkError):
            log.warning("outbox %s: %s; retrying", item.id, exc.message)
        return SendResult(item.id, Outcome.RETRY, item.chat_id, retry_at=retry_at, error=str(exc))


def backoff(attempts: int) -> float:
    """Exponential, capped at five minutes, with jitter so retries do not march in step."""
    base: float = min(300.0, 0.5 * 2 ** min(attempts, 10))
    return base * random.uniform(0.75, 1.25)  # noqa: S311


def retry_after_seconds(exc: RetryAfter) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def split_text(text: str, limit: int) -> list[str]:
    """Cut a long text into parts Telegram takes, at line or word breaks where possible."""
    parts: list[str] = []
    while len(text) > limit:
        cut = max(text.rfind("\n", 0, limit), text.rfind(" ", 0, limit))
        if cut < limit // 2:
            cut = limit
        if 0xD800 <= ord(text[cut - 1]) <= 0xDBFF:  # never split a surrogate pair
            cut -= 1
        parts.append(text[:cut])
        text = text[cut:].lstrip("\n") if cut < limit else text[cut:]
    parts.append(text)
    return [p for p in parts if p]


async def _wait_any(event: asyncio.Event, stop: asyncio.Event, timeout: float) -> None:
    waiters = [asyncio.ensure_future(event.wait()), asyncio.ensure_future(stop.wait())]
    try:
        await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()


def utc_seconds_until(moment: datetime, now: datetime) -> float:
    return max(0.0, (moment - now).total_seconds())
