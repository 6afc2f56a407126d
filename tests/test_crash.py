"""Crash test (RELIABILITY rows 1 and 10, issue 2): kill -9 the bot three times under load.

The real bot runs as a child process (`python -m bot run`) against the sandbox, with Telegram's
limits checked at the harness's time scale, on a real database (a SQLite file; PostgreSQL on the
second pass). 50 users send 20 messages each, concurrently and paced, without waiting for
replies. The child is SIGKILLed at random moments and restarted. At the end every update has
one inbox row, `done`; each update's one reply exists once in the outbox and is `sent`; every
chat got every reply, in order; and the replies delivered twice are counted: zero without
kills, few with them.
"""

from __future__ import annotations

import asyncio
import os
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from bot.i18n import Catalogs
from bot.sandbox import Sandbox
from bot.sender import UNRECORDED_PER_LANE
from handlers.help import help_text
from handlers.start import welcome
from tests.databases import Database
from tests.harness import (
    BotProcess,
    bot_env,
    eventually,
    query,
    stop_bot,
    texts,
)

USERS = 50
MESSAGES = 20
FIRST_USER = 20_001
KILLS = 3
# Sends in flight at once (MINSHENG_SEND_CONCURRENCY). A kill can only re-send what was sent but
# not yet recorded, and the sender lets at most UNRECORDED_PER_LANE × concurrency sends wait for
# their record (lanes pause when the database falls behind), however loaded the machine.
SEND_CONCURRENCY = 16
CHAT_BURST = 3
DUPLICATE_BOUND = KILLS * UNRECORDED_PER_LANE * SEND_CONCURRENCY  # per test: 3 kills

T = Catalogs("en").get("en")
POINTER = T.gettext("To send a request or ask something, please use the menu below.")


@dataclass
class Workload:
    """What was sent: update_id → (chat, kind, text), and each chat's expected replies."""

    sent: dict[int, tuple[int, str, str]] = field(default_factory=dict)
    expected: dict[int, list[str]] = field(default_factory=dict)


def expected_reply(kind: str, text: str) -> str:
    """The reply each kind of message gets (handlers/start, help, fallback)."""
    if kind == "start":
        return welcome(T)
    if kind == "help":
        return help_text(T)
    if kind == "text":
        return POINTER
    return text  # unknown command: the reply quotes it; matched by `reply_matches`


def reply_matches(expected: str, got: str) -> bool:
    if expected.startswith("/x"):
        return f"I don't know the command {expected}." in got
    return expected == got


async def drive_users(
    sandbox: Sandbox,
    rng: random.Random,
    workload: Workload,
    pause: tuple[float, float] = (0.05, 0.45),
    more: Callable[[], bool] = lambda: False,
) -> None:
    """50 users, each sending its next message after a short random pause (no waiting): MESSAGES
    each, and more for as long as `more()` says (a test that must kill during the load)."""

    async def user(index: int, seed: int) -> None:
        own = random.Random(seed)
        chat = FIRST_USER + index
        i = 0
        while i < MESSAGES or more():
            await asyncio.sleep(own.uniform(*pause))
            kind = own.choice(("start", "help", "text", "unknown"))
            text = {
                "start": "/start",
                "help": "/help",
                "text": f"hello {i} from {chat}",
                "unknown": f"/x{chat}m{i}",
            }[kind]
            update = sandbox.send_text(chat, text)
            workload.sent[update["update_id"]] = (chat, kind, text)
            workload.expected.setdefault(chat, []).append(expected_reply(kind, text))
            i += 1

    await asyncio.gather(*(user(i, rng.randrange(2**32)) for i in range(USERS)))


async def settle(db_path: Database, workload: Workload, within: float) -> None:
    """Until every update is handled and every outbox row has an outcome."""

    def done() -> bool:
        [(inbox_open,)] = query(
            db_path, "SELECT count(*) FROM inbox_update WHERE status != 'done'"
        )
        [(inbox,)] = query(db_path, "SELECT count(*) FROM inbox_update")
        [(outbox_open,)] = query(
            db_path, "SELECT count(*) FROM outbox_message WHERE status IN ('pending', 'uncertain')"
        )
        return inbox == len(workload.sent) and inbox_open == 0 and outbox_open == 0

    await eventually(done, within, interval=0.1, what="all updates handled and sent")


def check_database(db_path: Database, workload: Workload) -> None:
    """Exactly one inbox row per update, done; exactly one reply row per update, sent."""
    inbox = query(db_path, "SELECT update_id, status FROM inbox_update")
    assert Counter(u for u, _ in inbox) == Counter(list(workload.sent)), "inbox ≠ updates sent"
    assert {s for _, s in inbox} == {"done"}
    # Every kind of message sent here gets exactly one sendMessage (handlers/start, help,
    # fallback: plain text shorter than the limit gets the menu pointer only).
    rows = query(
        db_path,
        "SELECT update_id, chat_id, method, status FROM outbox_message "
        "WHERE update_id IS NOT NULL",
    )
    per_update = Counter(u for u, _, _, _ in rows)
    assert set(per_update) == set(workload.sent)
    assert [u for u, n in per_update.items() if n != 1] == []
    for update_id, chat_id, method, _ in rows:
        assert (chat_id, method) == (workload.sent[update_id][0], "sendMessage")
    statuses = query(db_path, "SELECT status, count(*) FROM outbox_message GROUP BY status")
    assert dict(statuses) == {"sent": dict(statuses).get("sent", -1)}, statuses
    # Rows with a business effect only: no update was answered twice through another path.
    chats = sorted(workload.expected)
    [(unlinked,)] = query(
        db_path,
        "SELECT count(*) FROM outbox_message WHERE update_id IS NULL "
        "AND method != 'setMyCommands' AND chat_id BETWEEN ? AND ?",
        (chats[0], chats[-1]),
    )
    assert unlinked == 0


def missing_reply(db_path: Database, chat: int, want: str, got: list[str]) -> str:
    """What to look at when a reply is missing or out of order: the chat's last messages and
    the outbox rows of its last updates, in id order."""
    rows = query(
        db_path,
        "SELECT o.id, o.update_id, i.id, o.status, o.attempts, o.message_id, o.error"
        " FROM outbox_message o LEFT JOIN inbox_update i ON i.update_id = o.update_id"
        " WHERE o.chat_id = ? ORDER BY o.id DESC LIMIT 4",
        (chat,),
    )
    return (
        f"chat {chat}: reply {want[:40]!r} missing or late; its last messages "
        f"{[text[:30] for text in got[-4:]]}; its last outbox rows (id, update, inbox id, "
        f"status, attempts, message_id, error) {rows[::-1]}"
    )


def check_chats(sandbox: Sandbox, db_path: Database, workload: Workload) -> int:
    """Every chat got every reply in order; returns how many replies came twice."""
    recorded = dict(
        query(db_path, "SELECT id, message_id FROM outbox_message WHERE update_id IS NOT NULL")
    )
    duplicates = 0
    for chat, expected in workload.expected.items():
        received = sandbox.messages(chat)
        got = texts(received)
        # In order and none missing: the expected replies are a subsequence of what came.
        position = 0
        for want in expected:
            while position < len(got) and not reply_matches(want, got[position]):
                position += 1
            assert position < len(got), missing_reply(db_path, chat, want, got)
            position += 1
        duplicates += len(received) - len(expected)
        assert len(received) >= len(expected)
    # The message_id each row recorded is a message that chat really received.
    delivered = {
        (m["chat_id"], m["message_id"]) for c in workload.expected for m in sandbox.messages(c)
    }
    rows = query(
        db_path, "SELECT id, chat_id, message_id FROM outbox_message WHERE update_id IS NOT NULL"
    )
    assert all((c, m) in delivered for _, c, m in rows), "a recorded message_id was not received"
    assert len(recorded) == len(workload.sent)
    return duplicates


async def run_workload(
    sandbox: Sandbox, tmp_path: Path, db_path: Database, *, kills: int, seed: int
) -> tuple[Workload, int]:
    env = bot_env(
        sandbox,
        db_path,
        MINSHENG_SEND_CONCURRENCY=str(SEND_CONCURRENCY),
        MINSHENG_RATE_CHAT_BURST=str(CHAT_BURST),
    )
    bot = BotProcess(env, tmp_path / "bot.log")
    rng = random.Random(seed)
    workload = Workload()
    bot.start()
    users = asyncio.create_task(drive_users(sandbox, rng, workload))
    started = time.monotonic()
    try:
        # Kill moments: random, spread over the ~5 s the users write, each at least 1.5 s
        # after the previous restart so the new process has started and is working.
        moments = sorted(rng.uniform(1.0, 5.0) for _ in range(kills))
        last = 0.0
        for moment in moments:
            at = max(moment, last + 1.5)
            await asyncio.sleep(max(0.0, at - (time.monotonic() - started)))
            bot.kill()
            print(
                f"SIGKILL at {time.monotonic() - started:.2f} s "
                f"({len(workload.sent)} updates sent so far)"
            )
            await asyncio.sleep(rng.uniform(0.0, 0.5))
            bot.start()
            last = time.monotonic() - started
        await users
        await settle(db_path, workload, within=40)
    finally:
        users.cancel()
        code = await stop_bot(bot)
    assert code == 0, bot.log()[-3000:]
    assert "Traceback" not in bot.log(), bot.log()[-3000:]
    assert len(workload.sent) == USERS * MESSAGES
    check_database(db_path, workload)
    return workload, check_chats(sandbox, db_path, workload)


def crash_seed() -> int:
    value = os.environ.get("MINSHENG_CRASH_SEED")
    return int(value) if value else random.SystemRandom().randrange(2**32)


@pytest.mark.slow
async def test_no_duplicates_without_kills(
    sandbox: Sandbox, tmp_path: Path, db_path: Database
) -> None:
    seed = crash_seed()
    print(f"seed {seed} (MINSHENG_CRASH_SEED to replay)")
    _, duplicates = await run_workload(sandbox, tmp_path, db_path, kills=0, seed=seed)
    print(f"replies delivered twice without kills: {duplicates}")
    assert duplicates == 0
    assert sandbox.violations == [], summary(sandbox.violations)


@pytest.mark.slow
async def test_kill_nine_three_times_loses_nothing(
    sandbox: Sandbox, tmp_path: Path, db_path: Database
) -> None:
    seed = crash_seed()
    print(f"seed {seed} (MINSHENG_CRASH_SEED to replay)")
    _, duplicates = await run_workload(sandbox, tmp_path, db_path, kills=KILLS, seed=seed)
    print(f"replies delivered twice with {KILLS} kills: {duplicates} (bound {DUPLICATE_BOUND})")
    assert 0 <= duplicates <= DUPLICATE_BOUND
    assert sandbox.violations == [], summary(sandbox.violations)


def summary(violations: list[dict[str, object]]) -> str:
    scopes = Counter(str(v["scope"]) for v in violations)
    return f"{len(violations)} rate-limit violations {dict(scopes)}; first: {violations[:3]}"
