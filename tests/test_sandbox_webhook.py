"""The sandbox delivers to a webhook as Telegram does: chats in parallel over several
connections, each chat's updates one at a time and in order, the offset confirmed only past
what the bot accepted."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable

import pytest
from aiohttp import web
from telegram import Bot

from bot.sandbox import Sandbox

WAIT = 20.0  # seconds to wait for a condition; generous, for a loaded machine


class Hook:
    """A webhook endpoint on 127.0.0.1 that records every request it gets.

    ``refuse(update_id, attempt)`` says whether to answer 500 (attempt counts from 1);
    ``delay`` is how long each request takes.
    """

    def __init__(self) -> None:
        self.url = ""
        self.delay = 0.0
        self.refuse: Callable[[int, int], bool] = lambda update_id, attempt: False
        self.arrivals: list[tuple[int, int]] = []  # (chat, update_id), failed tries included
        self.accepted: list[tuple[int, int]] = []
        self.ports: set[int] = set()  # the client ends of the connections used
        self.peak = 0  # most requests in flight at once
        self.chat_peak = 0  # most requests of one chat in flight at once
        self._tries: Counter[int] = Counter()
        self._running: Counter[int] = Counter()

    async def handle(self, request: web.Request) -> web.Response:
        update = await request.json()
        update_id, chat = update["update_id"], update["message"]["chat"]["id"]
        assert request.transport is not None
        self.ports.add(request.transport.get_extra_info("peername")[1])
        self._tries[update_id] += 1
        self.arrivals.append((chat, update_id))
        self._running[chat] += 1
        self.peak = max(self.peak, self._running.total())
        self.chat_peak = max(self.chat_peak, self._running[chat])
        try:
            await asyncio.sleep(self.delay)
            if self.refuse(update_id, self._tries[update_id]):
                return web.Response(status=500)
            self.accepted.append((chat, update_id))
            return web.Response()
        finally:
            self._running[chat] -= 1

    def accepted_of(self, chat: int) -> list[int]:
        return [update_id for c, update_id in self.accepted if c == chat]

    def arrivals_of(self, chat: int) -> list[int]:
        return [update_id for c, update_id in self.arrivals if c == chat]


@pytest.fixture
async def bot(sandbox: Sandbox) -> AsyncIterator[Bot]:
    async with Bot(sandbox.config.token, base_url=sandbox.api_url) as bot:
        yield bot


@pytest.fixture
async def hook(bot: Bot) -> AsyncIterator[Hook]:
    hook = Hook()
    app = web.Application()
    app.router.add_post("/hook", hook.handle)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=1)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    hook.url = f"http://127.0.0.1:{runner.addresses[0][1]}/hook"
    try:
        yield hook
    finally:
        await bot.delete_webhook()  # stops the deliveries before the endpoint goes away
        await runner.cleanup()


async def wait_until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


async def test_chats_are_delivered_in_parallel_over_several_connections(
    bot: Bot, sandbox: Sandbox, hook: Hook
) -> None:
    hook.delay = 0.2
    chats = range(2001, 2021)
    for chat in chats:
        sandbox.send_text(chat, "hello")
    started = time.monotonic()
    assert await bot.set_webhook(hook.url)
    await wait_until(lambda: len(hook.accepted) == len(chats), "all twenty updates")
    elapsed = time.monotonic() - started

    assert elapsed < 0.5 * len(chats) * hook.delay  # one at a time would take 4 s
    assert hook.peak > 1
    assert len(hook.ports) > 1
    assert sorted(chat for chat, _ in hook.accepted) == list(chats)
    # Counted when the answer is back in the sandbox, a moment after the endpoint saw it.
    await wait_until(lambda: sandbox.stats["webhook_deliveries"] == len(chats), "the count")
    assert (await bot.get_webhook_info()).pending_update_count == 0


async def test_max_connections_bounds_the_requests_in_flight(
    bot: Bot, sandbox: Sandbox, hook: Hook
) -> None:
    hook.delay = 0.1
    for chat in range(2001, 2013):
        sandbox.send_text(chat, "hello")
    assert await bot.set_webhook(hook.url, max_connections=3)
    await wait_until(lambda: len(hook.accepted) == 12, "all twelve updates")

    assert 1 < hook.peak <= 3
    assert 1 < len(hook.ports) <= 3  # kept alive and reused, never more than the limit
    assert (await bot.get_webhook_info()).max_connections == 3


async def test_a_chat_gets_its_updates_in_order_even_when_some_fail(
    bot: Bot, sandbox: Sandbox, hook: Hook
) -> None:
    hook.delay = 0.02
    first, second = 3001, 3002
    updates = [sandbox.send_text(chat, f"{n}") for n in range(6) for chat in (first, second)]
    ids = {
        chat: [u["update_id"] for u in updates if u["message"]["chat"]["id"] == chat]
        for chat in (first, second)
    }
    # Every other update of the first chat fails on its first try, as does the second
    # chat's first one.
    failing = {*ids[first][::2], ids[second][0]}
    hook.refuse = lambda update_id, attempt: update_id in failing and attempt == 1
    assert await bot.set_webhook(hook.url)
    await wait_until(lambda: len(hook.accepted) == len(updates), "all updates")

    for chat in (first, second):
        assert hook.accepted_of(chat) == ids[chat]
        # No update arrived before the one ahead of it was accepted: a failed one is retried
        # before anything after it is sent.
        tries = [[update_id] * (2 if update_id in failing else 1) for update_id in ids[chat]]
        assert hook.arrivals_of(chat) == [update_id for same in tries for update_id in same]
    assert hook.chat_peak == 1
    await wait_until(lambda: sandbox.stats["webhook_deliveries"] == len(updates), "the count")


async def test_the_offset_waits_for_an_update_that_keeps_failing(
    bot: Bot, sandbox: Sandbox, hook: Hook
) -> None:
    stuck, other = 4001, 4002
    blocked = sandbox.send_text(stuck, "first")["update_id"]
    later = [sandbox.send_text(other, f"{n}")["update_id"] for n in range(3)]
    accept_blocked = False
    hook.refuse = lambda update_id, attempt: update_id == blocked and not accept_blocked
    assert await bot.set_webhook(hook.url)
    # The other chat's updates, all younger than the stuck one, go through meanwhile.
    await wait_until(lambda: hook.accepted_of(other) == later, "the other chat's updates")
    await wait_until(lambda: hook.arrivals_of(stuck).count(blocked) >= 2, "a retry")

    info = await bot.get_webhook_info()
    assert info.pending_update_count == 1
    assert info.last_error_message == "Wrong response from the webhook: 500 Internal Server Error"
    assert [u["update_id"] for u in sandbox.world.pending] == [blocked]

    accept_blocked = True
    await wait_until(lambda: hook.accepted_of(stuck) == [blocked], "the stuck update")
    deadline = time.monotonic() + WAIT
    while (await bot.get_webhook_info()).pending_update_count:
        assert time.monotonic() < deadline, "pending_update_count stays above 0"
        await asyncio.sleep(0.05)
    await wait_until(lambda: sandbox.stats["webhook_deliveries"] == 4, "the count")


async def test_switching_to_polling_redelivers_only_what_was_not_accepted(
    bot: Bot, sandbox: Sandbox, hook: Hook
) -> None:
    stuck, other = 5001, 5002
    blocked = sandbox.send_text(stuck, "first")["update_id"]
    later = [sandbox.send_text(other, f"{n}")["update_id"] for n in range(2)]
    hook.refuse = lambda update_id, attempt: update_id == blocked
    assert await bot.set_webhook(hook.url)
    await wait_until(lambda: hook.accepted_of(other) == later, "the other chat's updates")

    assert await bot.delete_webhook()
    assert [u.update_id for u in await bot.get_updates(timeout=0)] == [blocked]
