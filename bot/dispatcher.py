"""The dispatcher: stored updates in, handled exactly once, in order within each chat.

A pass takes a batch of pending updates, keeps each chat's updates together and in order, and
splits the chats over a few lanes that run in parallel. A lane handles its updates in ONE
transaction: their effects, their outbox rows and their done-marks commit together. Committing
many updates at once is what lets SQLite keep synchronous=FULL and still carry the load.
If anything in a lane fails, the lane rolls back whole and its updates go again one per
transaction, so only the failing update is marked failed (handlers touch nothing but the
database, so running them again is safe). This costs less than a savepoint per update, which
would add two statements to every update for a failure that is rare.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from telegram import Update
from tortoise.transactions import in_transaction

from bot.context import MinshengApp, Services
from handlers.errors import HANDLER_ERRORS, apology
from storage.citizens import citizen_language
from storage.inbox import (
    PendingUpdate,
    claim_chats,
    fail_update,
    finish_update,
    finish_updates,
    handling,
    pending_updates,
)
from storage.lane_reads import Arrival, reading_ahead
from storage.outbox import collected_outbox, enqueue

log = logging.getLogger(__name__)


class HandlerFailed(Exception):
    """A handler raised; carried out of the savepoint so it rolls back."""


class AlreadyHandled(Exception):
    """Another worker marked the update done first; this attempt must leave no trace."""


class Dispatcher:
    def __init__(
        self,
        app: MinshengApp,
        services: Services,
        *,
        lanes: int,
        batch: int = 256,
        on_commit: Callable[[], None] = lambda: None,
    ) -> None:
        self._app = app
        self._services = services
        self._lanes = lanes
        self._batch = batch
        self.on_commit = on_commit
        self._wake = asyncio.Event()
        self.handled = 0
        self.failed = 0
        self.last_pass: float = 0.0
        self._flood = timedelta(seconds=services.settings.flood_seconds)

    def wake(self) -> None:
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        """Handle stored updates until told to stop; a pass under way is finished first."""
        while not stop.is_set():
            self._services.metrics.beat("dispatcher")
            self._wake.clear()
            try:
                done = await self.drain_once()
            except Exception:
                log.exception("dispatch pass failed; trying again shortly")
                done = 0
                await asyncio.sleep(0.5)
            if not done:
                waiters = [
                    asyncio.ensure_future(self._wake.wait()),
                    asyncio.ensure_future(stop.wait()),
                ]
                await asyncio.wait(waiters, timeout=1.0, return_when=asyncio.FIRST_COMPLETED)
                for waiter in waiters:
                    waiter.cancel()

    async def drain_once(self) -> int:
        """One pass over pending updates; returns how many were handled here (updates whose
        chat another process holds are left to it)."""
        self.last_pass = asyncio.get_running_loop().time()
        pending = await pending_updates(self._batch)
        if not pending:
            return 0
        chats: dict[int, list[PendingUpdate]] = {}
        for item in pending:
            chats.setdefault(item.chat_key, []).append(item)
        lanes: list[list[PendingUpdate]] = [[] for _ in range(self._lanes)]
        for index, items in enumerate(chats.values()):
            lanes[index % self._lanes].extend(items)
        taken = await asyncio.gather(*(self._run_lane(lane) for lane in lanes if lane))
        return sum(taken)

    async def _run_lane(self, lane: list[PendingUpdate]) -> int:
        items = lane
        try:
            async with in_transaction():
                items = await claim_chats(lane)
                if not items:
                    return 0
                async with collected_outbox(), reading_ahead(_arrivals(items), window=self._flood):
                    for item in items:
                        await self._process(item)
                # One statement marks the lane's updates done; if another worker got any of
                # them first, the count differs and the whole lane rolls back.
                done = [item.id for item in items]
                if not await finish_updates(done, now=self._services.clock.now()):
                    raise AlreadyHandled  # noqa: TRY301 - leaving the block rolls back
            self.handled += len(items)
            self._services.metrics.handled(items, self._services.clock.now())
        except Exception as exc:
            # A handler failed, the database was busy, or another worker raced us: nothing of
            # the lane was kept. Go again one update per transaction, so only the update that
            # fails fails, and the chat's next updates still flow.
            log.info("lane of %d updates rolled back (%r); one by one now", len(items), exc)
            held: set[int] = set()  # chats another process holds: their next updates wait too
            for item in items:
                if item.chat_key in held or not await self._handle_alone(item):
                    held.add(item.chat_key)
        self.on_commit()
        return len(items)

    async def _process(self, item: PendingUpdate) -> None:
        """Run one update through the handlers; raise if one of them failed."""
        try:
            update = Update.de_json(_without_pressed_keyboard(item.payload), self._app.bot)
        except (TypeError, KeyError, AttributeError, ValueError, OverflowError) as exc:
            # Telegram does not send bodies like this; nothing can be done with one but to
            # note it and move on (it is kept in the inbox as it came).
            log.warning("update %s is unreadable and is skipped: %r", item.update_id, exc)
            return
        box: list[BaseException] = []
        token = HANDLER_ERRORS.set(box)
        this = handling.set(item)
        try:
            await self._app.process_update(update)
        finally:
            handling.reset(this)
            HANDLER_ERRORS.reset(token)
        if box:
            raise HandlerFailed(item.update_id) from box[0]

    async def _handle_alone(self, item: PendingUpdate) -> bool:
        """One update, one transaction; on failure, mark it failed and apologize. False if
        another process holds its chat or handled it: the chat's later updates must then not
        overtake it, and wait for the next pass."""
        try:
            async with in_transaction():
                if not await claim_chats([item]):
                    raise AlreadyHandled  # noqa: TRY301 - held or finished by another process
                await self._process(item)
                if not await finish_update(item.id, now=self._services.clock.now()):
                    raise AlreadyHandled  # noqa: TRY301 - leaving the block rolls back
            self.handled += 1
            self._services.metrics.handled([item], self._services.clock.now())
        except AlreadyHandled:
            log.info("update %s is handled elsewhere", item.update_id)
            return False
        except Exception as exc:
            cause = exc.__cause__ if isinstance(exc, HandlerFailed) else exc
            log.error("update %s failed: %r", item.update_id, cause)  # noqa: TRY400
            self.failed += 1
            self._services.metrics.failed_update()
            async with in_transaction():
                await fail_update(item.id, repr(cause), now=self._services.clock.now())
                await self._apologize(item)
        return True

    async def _apologize(self, item: PendingUpdate) -> None:
        """Tell the person their message did not go through, in their language."""
        user_id = _sender_id(item.payload)
        if user_id is None or item.chat_key != user_id:
            return  # only private chats get an apology; groups would be noise
        language = await citizen_language(user_id, self._services.settings.default_language)
        text = apology(self._services.catalogs.get(language))
        await enqueue(
            user_id,
            "sendMessage",
            {"text": text},
            now=self._services.clock.now(),
            update_id=item.update_id,
        )


def _without_pressed_keyboard(payload: dict[str, Any]) -> dict[str, Any]:
    """The update as handlers get it: a pressed button's message without its keyboard.

    A handler that changes that keyboard draws it again from the state it shows
    (handlers/intake_publish.py); one that keeps it as it was reads it from the inbox row
    (handlers.buttons.pressed_keyboard). Building python-telegram-bot's objects for a keyboard
    of ten buttons cost more than the rest of the update; without them, intake takes about a
    tenth less CPU. The inbox keeps the update as Telegram sent it."""
    query = payload.get("callback_query")
    if not isinstance(query, dict):
        return payload
    message = query.get("message")
    if not isinstance(message, dict) or "reply_markup" not in message:
        return payload
    message = {key: value for key, value in message.items() if key != "reply_markup"}
    return {**payload, "callback_query": {**query, "message": message}}


def _arrivals(items: list[PendingUpdate]) -> list[Arrival]:
    return [
        Arrival(item.id, item.chat_key, _sender_id(item.payload), item.received_at)
        for item in items
        if item.received_at is not None
    ]


def _sender_id(payload: dict[str, Any]) -> int | None:
    for key in ("message", "edited_message", "callback_query"):
        part = payload.get(key)
        if isinstance(part, dict) and isinstance(part.get("from"), dict):
            user_id = part["from"].get("id")
            return user_id if isinstance(user_id, int) else None
    return None


def chat_key_of(payload: dict[str, Any]) -> int:
    """The unit of ordering: the chat an update belongs to, else its user, else 0."""
    for key in (
        "message",
        "edited_message",
        "channel_post",
        "edited_channel_post",
        "business_message",
    ):
        part = payload.get(key)
        if isinstance(part, dict) and isinstance(part.get("chat"), dict):
            chat_id = part["chat"].get("id")
            if isinstance(chat_id, int):
                return chat_id
    query = payload.get("callback_query")
    if isinstance(query, dict):
        message = query.get("message")
        if isinstance(message, dict) and isinstance(message.get("chat"), dict):
            chat_id = message["chat"].get("id")
            if isinstance(chat_id, int):
                return chat_id
    for part in payload.values():
        if isinstance(part, dict) and isinstance(part.get("from"), dict):
            user_id = part["from"].get("id")
            if isinstance(user_id, int):
                return user_id
    return 0
