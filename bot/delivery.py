"""One Bot API call for one outbox row, and what Telegram's answer means for the row.

The order of the checks matters: BadRequest is a subclass of NetworkError in
python-telegram-bot, and it is permanent, so it is classified first.
"""

from __future__ import annotations

import logging
import random
import warnings
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from telegram import Bot
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)

from bot.bot_api import api_call
from bot.bot_http import ConnectTimedOut
from bot.clock import Clock
from storage.outbox import Outcome, Outgoing, SendResult

log = logging.getLogger(__name__)

# Calls that put a message in a chat count against Telegram's per-chat and overall limits.
LIMITED_METHODS = frozenset(
    {
        "sendMessage",
        "sendPhoto",
        "sendDocument",
        "sendVoice",
        "sendVideo",
        "sendAudio",
        "sendMediaGroup",
        "sendLocation",
        "copyMessage",
    }
)
TEXT_LIMIT = 4096
# Telegram's answers for a forum topic that cannot take a message: closed, or deleted (gone).
TOPIC_CLOSED = "topic_closed"
TOPIC_GONE = "message thread not found"
# Told (chat, thread, deleted) when a card falls back from its topic to the General topic.
TopicLost = Callable[[int, int, bool], Awaitable[None]]
GIVE_UP_AFTER = timedelta(hours=24)
MAX_ATTEMPTS = 200


async def deliver(
    bot: Bot, item: Outgoing, clock: Clock, on_topic_lost: TopicLost | None = None
) -> SendResult:
    """Make the call; never raises for an answer from Telegram or the network.

    Retry times count from when the answer (or the timeout) came, not from the call's start.
    A message for a forum topic that is closed or deleted goes to the chat's General topic
    instead (`on_topic_lost` is told), so that no card is lost.
    """
    params: dict[str, Any] = dict(item.payload)
    if item.chat_id is not None:
        params["chat_id"] = item.chat_id
    try:
        answer = await _call_in_topic(bot, item, params, on_topic_lost)
    except TelegramError as exc:
        return classify(item, exc, clock.now())
    message_id = answer.get("message_id") if isinstance(answer, dict) else None
    return SendResult(item.id, Outcome.SENT, item.chat_id, message_id=message_id)


async def _call_in_topic(
    bot: Bot, item: Outgoing, params: dict[str, Any], on_topic_lost: TopicLost | None
) -> Any:
    try:
        return await _call(bot, item.method, params)
    except BadRequest as exc:
        thread, problem = params.get("message_thread_id"), exc.message.lower()
        if (
            thread is None
            or item.chat_id is None
            or not (TOPIC_CLOSED in problem or TOPIC_GONE in problem)
        ):
            raise
    log.warning("outbox %s: topic %s refused it (%s); sent to General", item.id, thread, problem)
    general = {k: v for k, v in params.items() if k != "message_thread_id"}
    try:  # the card first; then the lost topic is told (it must not hold the card back)
        return await _call(bot, item.method, general)
    finally:
        if on_topic_lost is not None:
            await on_topic_lost(item.chat_id, int(thread), TOPIC_GONE in problem)


async def _call(bot: Bot, method: str, params: dict[str, Any]) -> Any:
    try:
        return await api_call(bot, method, params)
    except BadRequest as exc:
        problem = exc.message.lower()
        if "can't parse entities" in problem and "parse_mode" in params:
            plain = {k: v for k, v in params.items() if k not in ("parse_mode", "entities")}
            return await api_call(bot, method, plain)
        text = params.get("text")
        if "message is too long" in problem and method == "sendMessage" and text:
            answer: Any = None
            for part in split_text(str(text), TEXT_LIMIT):
                answer = await api_call(bot, method, {**params, "text": part})
            return answer
        raise


def classify(item: Outgoing, exc: TelegramError, now: datetime) -> SendResult:
    """Map Telegram's answer to what the outbox does next."""
    if isinstance(exc, RetryAfter):
        wait = retry_after_seconds(exc) + random.uniform(0.05, 0.5)  # noqa: S311
        return SendResult(
            item.id,
            Outcome.RETRY,
            item.chat_id,
            error=str(exc),
            retry_at=now + timedelta(seconds=wait),
            counts_as_attempt=False,
        )
    if isinstance(exc, ChatMigrated):
        return SendResult(
            item.id,
            Outcome.MIGRATED,
            item.chat_id,
            new_chat_id=int(exc.new_chat_id),
            error=str(exc),
        )
    if isinstance(exc, Forbidden):
        log.warning("chat %s is unreachable: %s", item.chat_id, exc.message)
        return SendResult(item.id, Outcome.UNREACHABLE, item.chat_id, error=exc.message)
    if isinstance(exc, BadRequest):
        if "message is not modified" in exc.message.lower():
            return SendResult(item.id, Outcome.SENT, item.chat_id)
        if "chat not found" in exc.message.lower() and (item.chat_id or 0) < 0:
            # A group Telegram no longer knows (a department's own chat deleted): as removed.
            log.warning("chat %s is gone: %s", item.chat_id, exc.message)
            return SendResult(item.id, Outcome.UNREACHABLE, item.chat_id, error=exc.message)
        log.error("outbox %s refused by Telegram: %s", item.id, exc.message)
        return SendResult(item.id, Outcome.FAILED, item.chat_id, error=exc.message)
    if now - item.next_attempt_at > GIVE_UP_AFTER or item.attempts >= MAX_ATTEMPTS:
        log.error("outbox %s given up after %s attempts: %s", item.id, item.attempts, exc)
        return SendResult(item.id, Outcome.FAILED, item.chat_id, error=f"gave up: {exc}")
    retry_at = now + timedelta(seconds=backoff(item.attempts))
    if isinstance(exc, TimedOut) and not isinstance(exc, ConnectTimedOut):
        return SendResult(
            item.id,
            Outcome.UNCERTAIN,
            item.chat_id,
            retry_at=retry_at,
            error="timed out; may have been delivered",
        )
    if isinstance(exc, NetworkError):
        log.warning("outbox %s: %s; retrying", item.id, exc.message)
    return SendResult(item.id, Outcome.RETRY, item.chat_id, retry_at=retry_at, error=str(exc))


def backoff(attempts: int) -> float:
    """Exponential from half a second, capped at five minutes, with jitter."""
    return _backoff_base(attempts) * random.uniform(0.75, 1.25)  # noqa: S311


def backoff_ceiling(attempts: int) -> float:
    """The longest `backoff` may wait after `attempts` failures."""
    return _backoff_base(attempts) * 1.25


def _backoff_base(attempts: int) -> float:
    return min(300.0, 0.5 * 2.0 ** min(attempts, 10))


def retry_after_seconds(exc: RetryAfter) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def utf16_length(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units (an emoji outside the BMP counts 2)."""
    return len(text.encode("utf-16-le")) // 2


def split_text(text: str, limit: int) -> list[str]:
    """Cut a long text into parts of at most `limit` UTF-16 units, at a line or word break
    where one is in the second half of the part; the parts join back to the text exactly."""
    parts: list[str] = []
    start = 0
    while start < len(text):
        end, units, last_break = start, 0, -1
        while end < len(text):
            width = 2 if ord(text[end]) > 0xFFFF else 1
            if units + width > limit:
                break
            units += width
            end += 1
            if text[end - 1] in "\n ":
                last_break = end
        if end < len(text) and last_break > start + (end - start) // 2:
            end = last_break
        parts.append(text[start:end])
        start = end
    return parts
