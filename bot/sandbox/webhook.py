"""Pushing updates to the bot's webhook, one at a time and in order, until each is accepted."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

import aiohttp

from bot.sandbox.core import JsonDict
from bot.sandbox.state import World

log = logging.getLogger(__name__)


class WebhookDelivery:
    """A single task that POSTs pending updates to the webhook URL in update_id order."""

    def __init__(self, world: World, url: str, secret: str | None) -> None:
        self.world = world
        self.url = url
        self.secret = secret
        self.max_connections = 40
        self.last_error: tuple[int, str] | None = None
        self._session: aiohttp.ClientSession | None = None
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._session is not None:
            await self._session.close()
            self._session = None

    def info(self) -> JsonDict:
        info: JsonDict = {
            "url": self.url,
            "has_custom_certificate": False,
            "pending_update_count": len(self.world.pending),
            "max_connections": self.max_connections,
        }
        if self.world.allowed_updates:
            info["allowed_updates"] = list(self.world.allowed_updates)
        if self.last_error is not None:
            info["last_error_date"], info["last_error_message"] = self.last_error
        return info

    async def _run(self) -> None:
        attempts = 0
        while True:
            update = next((u for u in self.world.pending if self.world.wanted(u)), None)
            if update is None:
                self.world.confirm(
                    self.world.pending[-1]["update_id"] + 1 if self.world.pending else 0
                )
                await self.world.updates_signal.wait(None)
                continue
            if await self._post(update):
                attempts = 0
                self.world.confirm(update["update_id"] + 1)
                self.world.count("webhook_deliveries")
            else:
                attempts += 1
                await asyncio.sleep(min(0.2 * attempts, 2.0))

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
