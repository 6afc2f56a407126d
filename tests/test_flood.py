"""The citizen gate (RELIABILITY row 32): a flood gets one "slow down" and is not served, other
citizens are served as usual; a citizen blocked by staff is told once, then silence."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from bot.sandbox import Sandbox
from storage.staff import ensure_admins
from tests.databases import Database
from tests.following import desk
from tests.harness import eventually, execute, query, wait_inbox_settled

FLOODER, BYSTANDER, BLOCKED, STAFF = 73_001, 73_002, 73_003, 73_004
SLOW_DOWN = "You are sending messages very fast"


async def test_a_burst_of_100_gets_one_notice_and_others_are_served(
    sandbox: Sandbox, db_path: Database
) -> None:
    async with desk(sandbox, db_path) as d:
        await d.say(BYSTANDER, "/help", 1)  # the bot is up
        for i in range(100):
            sandbox.send_text(FLOODER, f"message {i}")
        # Served while the flood is in the bot's queues: told apart by chat, not behind it.
        started = time.monotonic()
        await d.say(BYSTANDER, "/help", 2)
        print(f"the bystander was answered {time.monotonic() - started:.2f} s into the flood")
        await wait_inbox_settled(db_path, 102)
        await eventually(
            lambda: (
                query(
                    db_path,
                    "SELECT count(*) FROM outbox_message WHERE status IN ('pending', 'uncertain')",
                )[0][0]
                == 0
            ),
            20,
            what="the answers sent",
        )
        received = [m["text"] for m in sandbox.messages(FLOODER)]
        assert sum(SLOW_DOWN in text for text in received) == 1
        limit = d.runtime.services.settings.flood_messages
        # The first `limit` messages are answered (two messages each: too-long check aside, the
        # menu pointer), then one notice, then nothing.
        assert len(received) == limit + 1
        assert SLOW_DOWN in received[-1]
        assert (
            query(db_path, "SELECT count(*) FROM inbox_update WHERE status = 'done'")[0][0] == 102
        )
        assert sandbox.violations == []


async def test_a_blocked_citizen_is_told_once(sandbox: Sandbox, db_path: Database) -> None:
    async with desk(sandbox, db_path) as d:
        await d.say(BLOCKED, "/start", 1)
        await execute(db_path, "UPDATE citizen SET blocked = TRUE WHERE id = ?", (BLOCKED,))
        told = await d.say(BLOCKED, "New request", 2)
        assert told["text"].startswith("The desk's staff have restricted this account")
        for text in ("hello", "/start", "My requests"):
            sandbox.send_text(BLOCKED, text)
        # Their privacy rights stay: /privacy is still answered, and nothing else was.
        privacy = await d.say(BLOCKED, "/privacy", 3)
        assert privacy["text"].startswith("What this desk keeps about you")
        assert len(sandbox.messages(BLOCKED)) == 3


async def test_staff_working_fast_are_not_a_flood(sandbox: Sandbox, db_path: Database) -> None:
    """The gate is for citizens: a staff member sending many commands at once is served."""
    async with desk(sandbox, db_path) as d:
        await d.say(BYSTANDER, "/help", 1)  # the bot is up
        await ensure_admins((STAFF,), now=datetime.now(UTC))
        burst = d.runtime.services.settings.flood_messages + 5
        for _ in range(burst):
            sandbox.send_text(STAFF, "/help")
        await wait_inbox_settled(db_path, 1 + burst)
        await eventually(lambda: len(sandbox.messages(STAFF)) == burst, 20, what="every answer")
        assert not any(SLOW_DOWN in m["text"] for m in sandbox.messages(STAFF))
