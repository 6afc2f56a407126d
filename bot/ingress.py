"""Ingress: updates from Telegram into the inbox, stored before Telegram may forget them.

Polling confirms a batch only by asking for the next one, so a batch is stored (one
transaction) before the next getUpdates. The webhook stores the update, then answers 200;
Telegram retries anything else, and a repeated update_id is stored once.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
from collections.abc import Callable
from typing import Any

from aiohttp import web
from telegram import Bot
from telegram.error import Conflict, InvalidToken, NetworkError, RetryAfter, TimedOut

from bot.clock import Clock
from bot.dispatcher import chat_key_of
from storage.inbox import IncomingUpdate, store_updates

log = logging.getLogger(__name__)


class PollingConflict(Exception):
    """Another process polls with the same token: running on would process updates twice."""


def to_incoming(payload: dict[str, Any]) -> IncomingUpdate:
    update_id = payload.get("update_id")
    if not isinstance(update_id, int):
        raise TypeError("update without an integer update_id")
    return IncomingUpdate(update_id=update_id, chat_key=chat_key_of(payload), payload=payload)


class Poller:
    """Long polling with Telegram's offset semantics and our inbox in front of the offset."""

    def __init__(
        self, bot: Bot, clock: Clock, on_stored: Callable[[], None], *, timeout: int
    ) -> None:
        self._bot = bot
        self._clock = clock
        self._on_stored = on_stored
        self._timeout = timeout
        self._offset: int | None = None
        self.last_success: float = 0.0
        self.received = 0

    async def run(self, stop: asyncio.Event) -> None:
        failures = 0
        store_failures = 0
        while not stop.is_set():
            try:
                batch = await self._bot.do_api_request(
                    "getUpdates",
                    api_kwargs=self._params(),
                    read_timeout=self._timeout + 10,
                )
            except Conflict as exc:
                raise PollingConflict(str(exc)) from exc
            except InvalidToken:
                raise
            except RetryAfter as exc:
                await _sleep_or_stop(stop, 5.0)
                log.warning("getUpdates asked to wait: %s", exc)
                continue
            except (TimedOut, NetworkError) as exc:
                failures += 1
                log.warning("getUpdates failed (%s); retrying", exc)
                await _sleep_or_stop(stop, min(30.0, 0.5 * 2 ** min(failures, 6)))
                continue
            failures = 0
            self.last_success = asyncio.get_running_loop().time()
            if not batch:
                continue
            try:
                await self.store(batch)
            except Exception as exc:
                # Not stored, so not confirmed: the offset stays and the next getUpdates brings
                # the same batch again. Polling on (rather than dying) is what keeps it safe.
                store_failures += 1
                log.warning("could not store %d updates (%r); they stay unconfirmed, retrying",
                            len(batch), exc)
                await _sleep_or_stop(stop, min(10.0, 0.25 * 2 ** min(store_failures, 6)))
                continue
            store_failures = 0

    def _params(self) -> dict[str, Any]:
        params: dict[str, Any] = {"timeout": self._timeout, "limit": 100}
        if self._offset is not None:
            params["offset"] = self._offset
        return params

    async def confirm(self) -> None:
        """Tell Telegram the stored updates are ours (as a stopping updater does)."""
        if self._offset is None:
            return
        try:
            batch = await self._bot.do_api_request(
                "getUpdates", api_kwargs={"offset": self._offset, "timeout": 0, "limit": 1}
            )
            if batch:
                await self.store(batch)
        except Exception as exc:  # stopping anyway; the updates are stored
            log.warning("could not confirm the last offset: %s", exc)

    async def store(self, batch: list[dict[str, Any]]) -> None:
        """Store first; only then move the offset that confirms the batch to Telegram."""
        incoming = []
        for payload in batch:
            try:
                incoming.append(to_incoming(payload))
            except TypeError:
                log.warning("dropping an update without update_id")
        await store_updates(incoming, now=self._clock.now())
        self.received += len(incoming)
        ids = [u["update_id"] for u in batch if isinstance(u.get("update_id"), int)]
        if ids:
            self._offset = max(ids) + 1
        self._on_stored()


def webhook_handler(
    secret: str, clock: Clock, on_stored: Callable[[], None]
) -> Callable[[web.Request], Any]:
    """The webhook view: 403 without the right secret, 503 if the update cannot be stored."""
    expected = secret.encode()

    async def receive(request: web.Request) -> web.Response:
        given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "").encode()
        if not hmac.compare_digest(given, expected):
            return web.json_response({"ok": False, "description": "forbidden"}, status=403)
        try:
            payload = json.loads(await request.read())
            incoming = to_incoming(payload)
        except (ValueError, TypeError):  # bad JSON, or JSON that is not an update
            return web.json_response({"ok": False, "description": "not an update"}, status=400)
        try:
            await store_updates([incoming], now=clock.now())
        except Exception:
            log.exception("could not store update %s; Telegram will retry", incoming.update_id)
            return web.json_response({"ok": False, "description": "try again"}, status=503)
        on_stored()
        return web.json_response({"ok": True})

    return receive


async def _sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)
