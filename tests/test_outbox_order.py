"""The sender reads the outbox past a cursor (storage/outbox.py). On PostgreSQL a transaction may
commit after another one that drew higher ids: the sender must not read past a row that is not
committed yet, or that row would go out late (a chat's replies out of order) or never. SQLite
commits one writer at a time, in the order of the ids: there is nothing to check there.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from tortoise.transactions import in_transaction

from storage.outbox import enqueue, open_messages_after
from tests.databases import ON_POSTGRES

pytestmark = pytest.mark.skipif(
    not ON_POSTGRES, reason="SQLite commits one writer at a time, in the order of the ids"
)


async def test_the_sender_waits_for_a_row_drawn_first_and_committed_last(db: None) -> None:
    now = datetime.now(UTC)
    drawn, finish = asyncio.Event(), asyncio.Event()

    async def slow_writer() -> None:
        async with in_transaction():
            await enqueue(7001, "sendMessage", {"text": "first"}, now=now)
            drawn.set()
            await finish.wait()

    writer = asyncio.create_task(slow_writer())
    await drawn.wait()
    await enqueue(7001, "sendMessage", {"text": "second"}, now=now)  # committed at once
    reader = asyncio.create_task(open_messages_after(0, 100))
    done, _ = await asyncio.wait([reader], timeout=0.5)
    assert not done, "the sender read past a row whose transaction is still open"
    finish.set()
    await writer
    assert [row.payload["text"] for row in await reader] == ["first", "second"]
