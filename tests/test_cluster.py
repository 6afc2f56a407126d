"""Processes sharing a PostgreSQL database (bot/cluster.py, storage.inbox.claim_chats): one
leads and another takes over when it goes, they wake each other, and a chat in one process's
hands is left to it by the others. On a real database; run on the PostgreSQL pass."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from tortoise.transactions import in_transaction

from bot.cluster import INBOX, OUTBOX, Cluster
from storage.inbox import (
    IncomingUpdate,
    PendingUpdate,
    claim_chats,
    finish_update,
    pending_updates,
    store_updates,
)
from tests.databases import ON_POSTGRES
from tests.harness import eventually

pytestmark = pytest.mark.skipif(not ON_POSTGRES, reason="several processes need PostgreSQL")

RETRY = 0.2


class Member:
    """One process's Cluster, with what it was told."""

    def __init__(self, url: str) -> None:
        self.heard: list[str] = []
        self.leading: list[bool] = []
        self.stop = asyncio.Event()
        self.cluster = Cluster(
            url,
            on_inbox=lambda: self.heard.append(INBOX),
            on_outbox=lambda: self.heard.append(OUTBOX),
            on_leading=self.leading.append,
            retry=RETRY,
        )
        self.task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.task = asyncio.create_task(self.cluster.run(self.stop))

    async def leave(self) -> None:
        self.stop.set()
        if self.task is not None:
            await self.task
        await self.cluster.close()


@pytest.fixture
async def members(postgres_url: str) -> AsyncIterator[tuple[Member, Member]]:
    first, second = Member(postgres_url), Member(postgres_url)
    try:
        yield first, second
    finally:
        await first.leave()
        await second.leave()


async def test_one_process_leads_and_another_takes_over_when_it_goes(
    members: tuple[Member, Member],
) -> None:
    first, second = members
    first.start()
    await eventually(lambda: first.cluster.leader, 10, what="the first process leading")
    second.start()
    await asyncio.sleep(5 * RETRY)  # several tries
    assert not second.cluster.leader
    assert second.leading == []

    await first.leave()
    await eventually(lambda: second.cluster.leader, 10, what="the lead handed over")
    assert first.leading == [True]  # a process that stops keeps the lead until it closes
    assert second.leading == [True]
    assert second.cluster.terms == 1


async def test_what_one_process_writes_wakes_the_others_not_itself(
    members: tuple[Member, Member],
) -> None:
    first, second = members
    first.start()
    await eventually(lambda: first.cluster.leader, 10, what="the first process leading")
    second.start()
    await eventually(lambda: second.cluster._connection is not None, 10, what="connected")

    first.cluster.written(INBOX)
    second.cluster.written(OUTBOX)
    await eventually(lambda: second.heard == [INBOX], 10, what="the inbox notification")
    await eventually(lambda: first.heard == [OUTBOX], 10, what="the outbox notification")
    await asyncio.sleep(0.2)
    assert (first.heard, second.heard) == ([OUTBOX], [INBOX])


def update(update_id: int, chat: int) -> IncomingUpdate:
    message = {"message_id": update_id, "chat": {"id": chat}, "from": {"id": chat}}
    return IncomingUpdate(update_id, chat, {"update_id": update_id, "message": message})


async def test_a_chat_another_process_holds_is_left_to_it(db: None) -> None:
    now = datetime.now(UTC)
    await store_updates([update(1, 501), update(2, 501), update(3, 502)], now=now)
    pending = await pending_updates(10)
    held = asyncio.Event()
    release = asyncio.Event()

    async def other_process(items: list[PendingUpdate]) -> list[int]:
        async with in_transaction():
            claimed = await claim_chats(items)
            held.set()
            await release.wait()
        return [item.update_id for item in claimed]

    other = asyncio.create_task(other_process([p for p in pending if p.chat_key == 501]))
    await held.wait()
    async with in_transaction():
        mine = await claim_chats(pending)
    release.set()
    assert await other == [1, 2]
    assert [item.update_id for item in mine] == [3]

    # The lock gone, the chat is ours; what the other process finished meanwhile is dropped.
    await finish_update(pending[0].id, now=now)
    async with in_transaction():
        mine = await claim_chats(pending)
    assert [item.update_id for item in mine] == [2, 3]
