"""Ingress: updates from Telegram into the inbox, stored before Telegram may forget them.

Polling confirms a batch only by asking for the next one, so a batch is stored (one
transaction) before the next getUpdates. The webhook stores the update, then answers 200;
Telegram retries anything else, and a repeated update_id is stored once.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from collections.abc import Callable
from typing import Any

from aiohttp import web
from telegram import Bot
from telegram.error import Conflict, InvalidToken, NetworkError, RetryAfter, TimedOut

from bot.bot_api import api_call
from bot.clock import Clock
from bot.dispatcher import chat_key_of
from bot.waiting import wait_any
from storage.inbox import IncomingUpdate, store_updates

log = logging.getLogger(__name__)


class PollingConflict(Exception):
    """Another process polls with the same token: running on would process updates twice."""


SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name
BIGINT = range(-(2**63), 2**63)  # what the inbox's update_id and chat_key columns hold
MAX_DEPTH = 64  # Telegram's deepest updates (a reply inside a pinned message) nest about 10


class UpdateRefused(ValueError):
    """A body that is not an update we can store; the message says why, for the sender."""


def parse_update(body: bytes) -> IncomingUpdate:
    """A webhook body as an update, or UpdateRefused: whatever the body, nothing else escapes."""
    try:
        payload = json.loads(body, parse_constant=_no_constant)
    except RecursionError:  # the decoder's own limit (about 1,000 levels)
        raise UpdateRefused("nested too deeply") from None
    except ValueError:  # not UTF-8, not JSON, or NaN and Infinity, which no database stores
        raise UpdateRefused("not JSON") from None
    return to_incoming(payload)


def to_incoming(payload: object) -> IncomingUpdate:
    """The inbox row of a decoded update, or UpdateRefused if it cannot be one.

    An update_id or chat id the database cannot hold would fail every store, and Telegram
    would retry it for a day: it is refused at once instead.
    """
    if not isinstance(payload, dict):
        raise UpdateRefused("an update is a JSON object")
    if _too_deep(payload):
        raise UpdateRefused("nested too deeply")
    update_id = payload.get("update_id")
    if type(update_id) is not int:  # not bool, not float
        raise UpdateRefused("an update needs an integer update_id")
    if update_id < 0 or update_id not in BIGINT:
        raise UpdateRefused("update_id out of range")
    chat_key = chat_key_of(payload)
    if chat_key not in BIGINT:
        raise UpdateRefused("chat id out of range")
    return IncomingUpdate(update_id=update_id, chat_key=chat_key, payload=payload)


def _no_constant(name: str) -> float:
    raise ValueError(name)


def _too_deep(payload: dict[str, Any]) -> bool:
    """Whether any value sits deeper than MAX_DEPTH, the update itself at depth 1 (walked
    without recursion; only objects and arrays are visited, every update passes here)."""
    todo: list[tuple[dict[str, Any] | list[Any], int]] = [(payload, 1)]
    while todo:
        value, depth = todo.pop()
        items = value.values() if isinstance(value, dict) else value
        if depth >= MAX_DEPTH and (depth > MAX_DEPTH or items):
            return True  # it is too deep, or its items are
        deeper = depth + 1  # (a tuple, not dict | list: isinstance takes it in a third less)
        todo += [(item, deeper) for item in items if isinstance(item, (dict, list))]
    return False


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
                batch = await api_call(
                    self._bot, "getUpdates", self._params(), read_timeout=self._timeout + 10
                )
            except Conflict as exc:
                raise PollingConflict(str(exc)) from exc
            except InvalidToken:
                raise
            except RetryAfter as exc:
                await wait_any(stop, seconds=5.0)
                log.warning("getUpdates asked to wait: %s", exc)
                continue
            except (TimedOut, NetworkError) as exc:
                failures += 1
                log.warning("getUpdates failed (%s); retrying", exc)
                await wait_any(stop, seconds=min(30.0, 0.5 * 2 ** min(failures, 6)))
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
                log.warning(
                    "could not store %d updates (%r); they stay unconfirmed, retrying",
                    len(batch),
                    exc,
                )
                await wait_any(stop, seconds=min(10.0, 0.25 * 2 ** min(store_failures, 6)))
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
            batch = await api_call(
                self._bot, "getUpdates", {"offset": self._offset, "timeout": 0, "limit": 1}
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
            except UpdateRefused as refused:
                log.warning("dropping an update that cannot be stored: %s", refused)
        await store_updates(incoming, now=self._clock.now())
        self.received += len(incoming)
        ids = [
            u["update_id"]
            for u in batch
            if isinstance(u, dict) and type(u.get("update_id")) is int
        ]
        if ids:
            self._offset = max(ids) + 1
        self._on_stored()


def webhook_handler(
    secret: str, clock: Clock, on_stored: Callable[[], None]
) -> Callable[[web.Request], Any]:
    """The webhook view: 403 without the right secret, 413 for a body over the app's
    client_max_size, 400 for a body that is not an update we can store (nothing stored), 503
    if the update cannot be stored now (Telegram retries)."""
    expected = secret.encode()

    async def receive(request: web.Request) -> web.Response:
        # The header's bytes as sent: aiohttp decodes them with surrogateescape, so a header
        # that is not UTF-8 compares as what it is (unequal) instead of failing to encode.
        given = request.headers.get(SECRET_HEADER, "").encode("utf-8", "surrogateescape")
        if not hmac.compare_digest(given, expected):
            return _refused("forbidden", 403)
        try:
            incoming = parse_update(await request.read())
        except web.HTTPRequestEntityTooLarge:
            return _refused("the body is too large", 413)
        except UpdateRefused as refused:
            return _refused(f"not an update: {refused}", 400)
        try:
            await store_updates([incoming], now=clock.now())
        except Exception:
            log.exception("could not store update %s; Telegram will retry", incoming.update_id)
            return web.json_response({"ok": False, "description": "try again"}, status=503)
        on_stored()
        return web.json_response({"ok": True})

    return receive


def _refused(description: str, status: int) -> web.Response:
    return web.json_response({"ok": False, "description": description}, status=status)
