"""Pushing updates to the bot's webhook as Telegram does: many chats at once, each in order.

Telegram keeps up to ``max_connections`` requests open to a webhook, but never sends a chat's
next update before the bot accepted the previous one. The sandbox does the same, so that a bot
running as several processes behind one port (SO_REUSEPORT balances per connection) really sees
concurrent requests, and so that a bug which only shows when chats overlap shows here too.
"""

from __future__ import annotations

import asyncio
import logging
import time

import aiohttp

from bot.sandbox.core import JsonDict
from bot.sandbox.state import World

log = logging.getLogger(__name__)

# Update kinds whose object carries a chat, tried in this order (as the dispatcher does).
CHAT_PARTS = (
    "message",
    "edited_message",
    "channel_post",
    "edited_channel_post",
    "business_message",
)


def chat_of(update: JsonDict) -> int:
    """The unit of ordering: the chat an update belongs to, else its user, else 0.

    The same rule as the bot's dispatcher (bot/dispatcher.py ``chat_key_of``), copied because
    the sandbox stands apart from the bot it tests.
    """
    for key in CHAT_PARTS:
        part = update.get(key)
        if isinstance(part, dict) and isinstance(part.get("chat"), dict):
            chat_id = part["chat"].get("id")
            if isinstance(chat_id, int):
                return chat_id
    query = update.get("callback_query")
    if isinstance(query, dict):
        message = query.get("message")
        if isinstance(message, dict) and isinstance(message.get("chat"), dict):
            chat_id = message["chat"].get("id")
            if isinstance(chat_id, int):
                return chat_id
    for part in update.values():
        if isinstance(part, dict) and isinstance(part.get("from"), dict):
            user_id = part["from"].get("id")
            if isinstance(user_id, int):
                return user_id
    return 0


class WebhookDelivery:
    """POSTs pending updates to the webhook URL: one task per chat with an update in flight,
    at most ``max_connections`` of them, each retrying its update until the bot accepts it."""

    def __init__(self, world: World, url: str, secret: str | None) -> None:
        self.world = world
        self.url = url
        self.secret = secret
        self.max_connections = 40  # setWebhook may change it before start()
        self.last_error: tuple[int, str] | None = None
        self._session: aiohttp.ClientSession | None = None
        self._task: asyncio.Task[None] | None = None
        # The chats with an update in flight (or waiting to be retried), and its task.
        self._posts: dict[int, asyncio.Task[None]] = {}

    def start(self) -> None:
        # One connection per request in flight, as Telegram opens them: a bot spread over
        # several processes on one port only shares the load if there are several connections.
        connector = aiohttp.TCPConnector(limit=self.max_connections)
        self._session = aiohttp.ClientSession(
            connector=connector, timeout=aiohttp.ClientTimeout(total=10)
        )
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        tasks = [task for task in (self._task, *self._posts.values()) if task is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._task = None
        self._posts.clear()  # a task cancelled before it ran never removed itself
        if self._session is not None:
            await self._session.close()
            self._session = None

    def info(self) -> JsonDict:
        info: JsonDict = {
            "url": self.url,
            "has_custom_certificate": False,
            # Accepted updates leave World.pending at once, so this counts what the bot owes.
            "pending_update_count": len(self.world.pending),
            "max_connections": self.max_connections,
        }
        if self.world.allowed_updates:
            info["allowed_updates"] = list(self.world.allowed_updates)
        if self.last_error is not None:
            info["last_error_date"], info["last_error_message"] = self.last_error
        return info

    async def _run(self) -> None:
        """Start deliveries whenever an update arrives or a delivery ends (both notify
        ``updates_signal``); nothing is awaited between looking and waiting, so no wake-up
        is lost."""
        while True:
            self._confirm()
            self._start_deliveries()
            await self.world.updates_signal.wait(None)

    def _confirm(self) -> None:
        """Let the world forget what comes before the oldest update not yet accepted.

        Accepted updates were taken out already; what is left in front are kinds the bot did
        not ask for (allowed_updates), which Telegram drops too.
        """
        pending = self.world.pending
        oldest = next((u["update_id"] for u in pending if self.world.wanted(u)), None)
        if oldest is None:
            oldest = pending[-1]["update_id"] + 1 if pending else 0
        self.world.confirm(oldest)

    def _start_deliveries(self) -> None:
        """Send each idle chat's oldest update, as far as ``max_connections`` allows."""
        looked_at: set[int] = set()
        for update in self.world.pending:
            if len(self._posts) >= self.max_connections:
                return
            if not self.world.wanted(update):
                continue
            chat = chat_of(update)
            if chat in looked_at:
                continue  # only a chat's oldest update may go; the rest wait their turn
            looked_at.add(chat)
            if chat not in self._posts:
                task = asyncio.get_running_loop().create_task(self._deliver(chat, update))
                self._posts[chat] = task

    async def _deliver(self, chat: int, update: JsonDict) -> None:
        """POST one update until the bot accepts it, backing off between tries; the chat's
        later updates wait meanwhile."""
        attempts = 0
        try:
            while not await self._post(update):
                attempts += 1
                await asyncio.sleep(min(0.2 * attempts, 2.0))
            # Older updates of other chats may still be in flight, so this one leaves the
            # queue by itself; the confirmed offset then only moves past accepted updates.
            if update in self.world.pending:  # not dropped meanwhile (drop_pending_updates)
                self.world.pending.remove(update)
            self.world.count("webhook_deliveries")
        finally:
            del self._posts[chat]
            self.world.updates_signal.notify()

    async def _post(self, update: JsonDict) -> bool:
        if self._session is None:
            return False
        headers = {"X-Telegram-Bot-Api-Secret-Token": self.secret} if self.secret else {}
        try:
            async with self._session.post(self.url, json=update, headers=headers) as response:
                await response.read()
                if 200 <= response.status < 300:
                    return True
                self.last_error = (
                    int(time.time()),
                    f"Wrong response from the webhook: {response.status} {response.reason}",
                )
        except (aiohttp.ClientError, TimeoutError) as error:
            self.last_error = (int(time.time()), f"Connection failed: {error}")
            log.debug("webhook delivery failed: %s", error)
        return False
