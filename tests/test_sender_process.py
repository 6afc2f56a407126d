"""The sender in a process of its own (bot.sender_child, bot.sender_process): the real bot
(`python -m bot run`) on a SQLite file, against the sandbox with Telegram's limits. The sender's
process sends and the bot's records; either may be killed, and nothing is lost."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.sandbox import Sandbox
from tests.databases import Database
from tests.harness import BotProcess, bot_env, eventually, free_port, query, stop_bot

pytestmark = pytest.mark.sqlite_only(reason="the sender's own process serves SQLite desks")

FIRST_USER = 71_001


def children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def alive(pid: int) -> bool:
    """Running, and not a zombie waiting for a parent to reap it."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] != "Z"
    except OSError:
        return False


def command_line(pid: int) -> bytes:
    return Path(f"/proc/{pid}/cmdline").read_bytes()


def open_rows(db_path: Database) -> int:
    rows = query(
        db_path, "SELECT count(*) FROM outbox_message WHERE status IN ('pending', 'uncertain')"
    )
    return int(rows[0][0])


async def started(sandbox: Sandbox, tmp_path: Path, db_path: Database, **extra: str) -> BotProcess:
    """The bot, once it has answered a first /help."""
    bot = BotProcess(bot_env(sandbox, db_path, **extra), tmp_path / "bot.log")
    bot.start()
    sandbox.send_text(FIRST_USER, "/help")
    await sandbox.wait_for_messages(FIRST_USER, 1, timeout=60)
    return bot


async def ask_for_help(sandbox: Sandbox, db_path: Database, users: range) -> None:
    """Each of `users` sends /help; back once every reply is queued."""
    for user in users:
        sandbox.send_text(user, "/help")
    replies = "SELECT count(*) FROM outbox_message WHERE chat_id BETWEEN ? AND ?"
    await eventually(
        lambda: query(db_path, replies, (users[0], users[-1]))[0][0] == len(users),
        30,
        what="every reply queued",
    )


def the_sender(bot: BotProcess) -> int:
    assert bot.process is not None
    (child,) = children(bot.process.pid)
    return child


async def health(port: int) -> dict[str, Any]:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"http://127.0.0.1:{port}/healthz") as response,
    ):
        report: dict[str, Any] = await response.json()
        return report


async def test_the_sender_sends_from_its_own_process_and_the_bot_records(
    sandbox: Sandbox, tmp_path: Path, db_path: Database
) -> None:
    port = free_port()
    bot = await started(sandbox, tmp_path, db_path, MINSHENG_HEALTH_LISTEN=f"127.0.0.1:{port}")
    try:
        assert bot.process is not None
        sender = the_sender(bot)
        # Forked from the bot: the same program, sharing its modules' memory.
        assert command_line(sender) == command_line(bot.process.pid)
        (message,) = sandbox.messages(FIRST_USER)
        rows = await eventually(
            lambda: (
                query(
                    db_path,
                    "SELECT status, message_id FROM outbox_message WHERE chat_id = ?",
                    (FIRST_USER,),
                )
                if open_rows(db_path) == 0
                else None
            ),
            10,
        )
        assert rows == [("sent", message["message_id"])]
        # The sender's pulse reaches /healthz through the bot's process.
        report = await eventually(lambda: health(port), 10, what="/healthz")
        assert report["workers"]["sender"]["ok"], report
    finally:
        code = await stop_bot(bot)
    assert code == 0, bot.log()[-3000:]
    await eventually(lambda: not alive(sender), 5, what="the sender's process to end")


def pipes(pid: int) -> int:
    """The pipe ends the process holds open."""
    fds = Path(f"/proc/{pid}/fd")
    return sum(1 for fd in fds.iterdir() if os.readlink(fd).startswith("pipe:"))


async def test_a_killed_sender_is_started_again_and_nothing_is_lost(
    sandbox: Sandbox, tmp_path: Path, db_path: Database
) -> None:
    bot = await started(sandbox, tmp_path, db_path)
    try:
        assert bot.process is not None
        held = pipes(bot.process.pid)
        first = the_sender(bot)
        os.kill(first, signal.SIGKILL)
        users = range(FIRST_USER + 1, FIRST_USER + 11)
        for user in users:
            sandbox.send_text(user, "/help")
        await asyncio.gather(*(sandbox.wait_for_messages(u, 1, timeout=30) for u in users))
        assert bot.process is not None
        pid = bot.process.pid
        second = await eventually(lambda: [c for c in children(pid) if c != first], 10)
        assert len(second) == 1
        assert "the sender's process ended (killed by signal 9)" in bot.log()
        await eventually(lambda: open_rows(db_path) == 0, 10, what="every row recorded")
        # The one started again runs as `python -m bot.sender_child`.
        assert b"bot.sender_child" in command_line(second[0])
        assert all(len(sandbox.messages(u)) == 1 for u in users)
        assert pipes(pid) == held  # the dead one's pipe ends were closed
    finally:
        code = await stop_bot(bot)
    assert code == 0, bot.log()[-3000:]
    assert "Traceback" not in bot.log(), bot.log()[-3000:]


async def test_a_killed_bot_takes_its_sender_along(
    sandbox: Sandbox, tmp_path: Path, db_path: Database
) -> None:
    bot = await started(sandbox, tmp_path, db_path)
    sender = the_sender(bot)
    bot.kill()
    await eventually(lambda: not alive(sender), 5, what="the orphaned sender to die")


async def test_stopping_sends_what_is_queued_first(
    sandbox: Sandbox, tmp_path: Path, db_path: Database
) -> None:
    """SIGTERM with replies still queued behind Telegram's overall limit: the sender's process
    sends them before both end (within the grace period), and the bot records them."""
    slow = {"MINSHENG_RATE_TIME_SCALE": "1", "MINSHENG_RATE_OVERALL_PER_SECOND": "10"}
    bot = await started(sandbox, tmp_path, db_path, **slow)
    users = range(FIRST_USER + 1, FIRST_USER + 41)
    try:
        sender = the_sender(bot)
        await ask_for_help(sandbox, db_path, users)
        assert open_rows(db_path) > 0  # 10 messages a second: 4 s of them
    finally:
        code = await stop_bot(bot)
    assert code == 0, bot.log()[-3000:]
    assert open_rows(db_path) == 0
    assert all(len(sandbox.messages(u)) == 1 for u in users)
    assert sandbox.violations == []
    assert not alive(sender)


async def test_a_queue_longer_than_the_grace_period_waits_for_the_next_start(
    sandbox: Sandbox, tmp_path: Path, db_path: Database
) -> None:
    """SIGTERM with more queued than the grace period can send (2 messages a second: 30 s of
    them): the sender's process stops in time, every reply it sent is recorded, and the rest
    go at the next start, each once."""
    slow = {"MINSHENG_RATE_TIME_SCALE": "1", "MINSHENG_RATE_OVERALL_PER_SECOND": "2"}
    bot = await started(sandbox, tmp_path, db_path, **slow)
    users = range(FIRST_USER + 1, FIRST_USER + 61)
    try:
        await ask_for_help(sandbox, db_path, users)
    finally:
        code = await stop_bot(bot)
    assert code == 0, bot.log()[-3000:]
    assert "did not end in time" not in bot.log(), bot.log()[-3000:]
    assert 0 < open_rows(db_path) < 60
    # A reply delivered is a reply recorded: none of them goes twice.
    for user in users:
        status = query(db_path, "SELECT status FROM outbox_message WHERE chat_id = ?", (user,))
        assert status == ([("sent",)] if sandbox.messages(user) else [("pending",)]), user
    bot.start()
    await eventually(lambda: open_rows(db_path) == 0, 60, what="the rest sent")
    assert await stop_bot(bot) == 0, bot.log()[-3000:]
    assert all(len(sandbox.messages(u)) == 1 for u in users)
    assert sandbox.violations == []
