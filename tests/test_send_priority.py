"""A person in conversation goes ahead of a storm of notices (bot.sender, bot.ratelimit): with
a queue of notices waiting for Telegram's overall limit, a citizen's answer to their own message
is sent before the notices queued ahead of it, each chat's messages keep their order, and no
limit is broken. Telegram's windows at their real length here: the queue takes seconds."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from bot.ratelimit import URGENT_RUN, SendLimiter, Window
from bot.sandbox import Sandbox
from tests.databases import Database
from tests.harness import eventually, insert_outbox, running_bot, sandbox_config, settings_for

NOTICES = 150  # five seconds of Telegram's 30/s
CITIZEN = 70_001
PAIRS = range(70_101, 70_106)  # chats queued two notices each
FIRST_NOTICE_CHAT = 71_001


@pytest.fixture
async def real_time_sandbox() -> AsyncIterator[Sandbox]:
    box = Sandbox(sandbox_config(time_scale=1.0))
    await box.start()
    try:
        yield box
    finally:
        await box.stop()


@pytest.mark.slow
async def test_a_reply_in_conversation_overtakes_the_notices_queued_ahead_of_it(
    real_time_sandbox: Sandbox, db_path: Database
) -> None:
    sandbox = real_time_sandbox
    for chat in PAIRS:
        insert_outbox(db_path, chat, "sendMessage", {"text": "first"})
    storm = [FIRST_NOTICE_CHAT + n for n in range(NOTICES)]
    for chat in storm:
        insert_outbox(db_path, chat, "sendMessage", {"text": "a notice"})
    for chat in PAIRS:
        insert_outbox(db_path, chat, "sendMessage", {"text": "second"})
    # Last in the queue: the answer to come must not overtake it (the chat's order).
    insert_outbox(db_path, CITIZEN, "sendMessage", {"text": "a notice for the citizen"})

    async with running_bot(settings_for(sandbox, db_path)):
        await eventually(
            lambda: sum(1 for chat in storm if sandbox.messages(chat)) >= 10,
            30,
            what="the storm under way",
        )
        sandbox.send_text(CITIZEN, "/help", language_code="en")
        notice, reply = await sandbox.wait_for_messages(CITIZEN, 2, timeout=60)
        for chat in storm:
            await sandbox.wait_for_messages(chat, 1, timeout=60)
        for chat in PAIRS:
            await sandbox.wait_for_messages(chat, 2, timeout=60)

    # The citizen's own chat keeps its order: the notice queued first comes first.
    assert notice["text"] == "a notice for the citizen"
    assert reply["text"] != notice["text"]
    # Every notice was queued before the citizen wrote; most were still waiting for the overall
    # window, and the answer went ahead of them (without the priority it comes after them all).
    later = [chat for chat in storm if sandbox.messages(chat)[0]["at"] > reply["at"]]
    assert len(later) > NOTICES // 2, f"only {len(later)} of {NOTICES} notices came after"
    for chat in PAIRS:
        assert [m["text"] for m in sandbox.messages(chat)] == ["first", "second"]
    assert sandbox.violations == []


async def test_notices_are_slowed_by_conversations_but_never_stopped() -> None:
    """With replies always waiting, a notice waiting too still gets one turn in URGENT_RUN."""
    limiter = SendLimiter(Window(1, 0.002), None, None)
    held = await limiter.acquire(1)  # in flight: everyone below must wait in line
    order: list[str] = []

    async def send(name: str, chat: int, urgent: bool) -> None:
        slot = await limiter.acquire(chat, urgent=urgent)
        order.append(name)
        slot.done(limiter.now())

    waiting = [asyncio.create_task(send("notice", 2, False))]
    waiting += [asyncio.create_task(send(f"reply {n}", 10 + n, True)) for n in range(30)]
    await asyncio.sleep(0.01)
    assert order == []
    held.done(limiter.now())
    await asyncio.gather(*waiting)
    assert order.index("notice") == URGENT_RUN - 1
    assert [name for name in order if name != "notice"] == [f"reply {n}" for n in range(30)]


ANSWERS = 10  # per chat of the crowd


@pytest.mark.slow
async def test_a_crowd_in_conversation_does_not_stop_the_notices(
    real_time_sandbox: Sandbox, db_path: Database
) -> None:
    """More chats in conversation than the sender has lanes, each holding its lane through the
    second between its messages: the notices still go out meanwhile, on lanes of their own."""
    sandbox = real_time_sandbox
    crowd = [72_001 + n for n in range(6)]
    notices = [73_001 + n for n in range(20)]
    settings = settings_for(sandbox, db_path, MINSHENG_SEND_CONCURRENCY="2")
    async with running_bot(settings):
        for _ in range(ANSWERS):  # about nine seconds of each chat's 1/s: the notices, read
            for chat in crowd:  # by the sender within its 2 s look, have time to go meanwhile
                sandbox.send_text(chat, "/help", language_code="en")
        await eventually(
            lambda: all(sandbox.messages(chat) for chat in crowd), 30, what="the crowd answered"
        )
        for chat in notices:
            insert_outbox(db_path, chat, "sendMessage", {"text": "a notice"})
        for chat in notices:
            await sandbox.wait_for_messages(chat, 1, timeout=60)
        for chat in crowd:
            await sandbox.wait_for_messages(chat, ANSWERS, timeout=60)
    first_notice = min(sandbox.messages(chat)[0]["at"] for chat in notices)
    last_answer = max(sandbox.messages(chat)[-1]["at"] for chat in crowd)
    # Without lanes of their own, the notices wait until every conversation is over.
    assert first_notice < last_answer
    assert sandbox.violations == []
