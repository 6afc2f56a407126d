"""Lifecycle: SIGTERM with a backlog (row 6), a second instance (409, row 8), and the watchdog
that notices a dead poller (row 9). The bot is the real one, as a child process or in-process,
against the sandbox over HTTP, on a real SQLite file."""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path

import aiohttp
import pytest

from bot.sandbox import FaultConfig, Sandbox
from tests.databases import Database
from tests.harness import (
    BotProcess,
    bot_env,
    eventually,
    query,
    running_bot,
    settings_for,
    stop_bot,
    texts,
)

GRACE = 20.0  # Runtime.shutdown's grace period
EXIT_CONFLICT = 3


async def bot_api(sandbox: Sandbox, method: str, **params: object) -> object:
    """Call the sandbox's Bot API as a fresh client would."""
    url = f"{sandbox.api_url}{sandbox.config.token}/{method}"
    async with aiohttp.ClientSession() as session, session.post(url, json=params) as response:
        body = await response.json()
    assert body["ok"], body
    return body["result"]


def echo(chat: int, i: int) -> str:
    return f"/b{chat}m{i}"


def echoed(command: str) -> str:
    return f"I don't know the command {command}."


async def test_sigterm_with_a_backlog_drains_confirms_and_exits_0(
    sandbox: Sandbox, tmp_path: Path, db_path: Database
) -> None:
    bot = BotProcess(bot_env(sandbox, db_path), tmp_path / "bot.log")
    # A first run; then the bot is down while 50 updates pile up.
    bot.start()
    sandbox.send_text(40_000, "/start")
    await sandbox.wait_for_messages(40_000, 1, timeout=20)
    assert await stop_bot(bot, GRACE + 5) == 0
    chats = [40_001 + n for n in range(10)]
    sent = [sandbox.send_text(chat, echo(chat, i)) for i in range(5) for chat in chats]
    assert len(sent) == 50
    polls = sandbox.stats.get("getUpdates", 0)

    bot.start()
    # SIGTERM right after the first getUpdates answered (it answers at once: 50 are waiting).
    await eventually(
        lambda: sandbox.stats.get("getUpdates", 0) > polls,
        20,
        interval=0.002,
        what="first getUpdates",
    )
    bot.terminate()
    began = time.monotonic()
    try:
        code = await bot.wait(GRACE + 10)
    finally:
        bot.kill()  # only if it hung: never outlive the test
    took = time.monotonic() - began
    print(f"SIGTERM → exit {code} in {took:.2f} s")
    assert code == 0, bot.log()[-3000:]
    # Within its grace period: the backlog was handled and the offset confirmed before the exit.
    assert "could not confirm the offset" not in bot.log()

    # Every update of the backlog stored and handled once, its reply sent and delivered.
    ids = sorted(u["update_id"] for u in sent)
    rows = query(
        db_path, "SELECT update_id, status FROM inbox_update WHERE update_id >= ?", (ids[0],)
    )
    assert rows == [(u, "done") for u in ids] or sorted(rows) == [(u, "done") for u in ids]
    replies = query(
        db_path,
        "SELECT update_id, status FROM outbox_message WHERE update_id >= ? ORDER BY update_id",
        (ids[0],),
    )
    assert replies == [(u, "sent") for u in ids]
    for chat in chats:
        got = texts(sandbox.messages(chat))
        assert len(got) == 5
        assert all(echoed(echo(chat, i)) in got[i] for i in range(5)), got

    # The offset was confirmed: Telegram holds nothing for us, a fresh poller gets nothing old.
    info = await bot_api(sandbox, "getWebhookInfo")
    assert isinstance(info, dict)
    assert info["pending_update_count"] == 0
    assert await bot_api(sandbox, "getUpdates", timeout=0) == []


@pytest.mark.slow
async def test_a_second_instance_409_alerts_and_exits_3(
    sandbox: Sandbox, tmp_path: Path, db_path: Database
) -> None:
    bot = BotProcess(bot_env(sandbox, db_path), tmp_path / "bot.log")
    bot.start()
    chats = [41_001, 41_002, 41_003]
    for i in range(3):
        for chat in chats:
            sandbox.send_text(chat, echo(chat, i))
    for chat in chats:
        await sandbox.wait_for_messages(chat, 3, timeout=20)

    sandbox.faults = FaultConfig(getupdates_conflict=True)
    try:
        code = await bot.wait(20)
    finally:
        bot.kill()
    log = bot.log()
    assert code == EXIT_CONFLICT, log[-3000:]
    alerts = [line for line in log.splitlines() if "ALERT" in line]
    assert alerts, log[-3000:]
    assert "another instance" in alerts[-1]

    # Nothing processed twice: one inbox row and one reply per update, one delivery each;
    # a restarted instance (the other one gone) handles only what is new.
    sandbox.faults = FaultConfig()
    bot.start()
    sandbox.send_text(chats[0], echo(chats[0], 3))
    await sandbox.wait_for_messages(chats[0], 4, timeout=20)
    assert await stop_bot(bot, GRACE + 5) == 0
    assert query(
        db_path,
        "SELECT count(*), count(DISTINCT update_id) FROM inbox_update WHERE status = 'done'",
    ) == [(10, 10)]
    assert query(
        db_path,
        "SELECT count(*), count(DISTINCT update_id) FROM outbox_message "
        "WHERE update_id IS NOT NULL AND status = 'sent'",
    ) == [(10, 10)]
    for chat, count in zip(chats, (4, 3, 3), strict=True):
        got = texts(sandbox.messages(chat))
        assert len(got) == count
        assert all(echoed(echo(chat, i)) in got[i] for i in range(count))


async def test_watchdog_alerts_when_the_poller_is_silent(
    sandbox: Sandbox, db_path: Database, caplog: pytest.LogCaptureFixture
) -> None:
    threshold = 1.5  # MINSHENG_POLL_ALERT_AFTER; the watchdog looks every threshold / 3
    staff = sandbox.config.staff_group_id
    settings = settings_for(
        sandbox, db_path, MINSHENG_POLL_ALERT_AFTER=str(threshold), MINSHENG_DEFAULT_LANGUAGE="ru"
    )
    assert settings.poll_alert_after == threshold
    caplog.set_level(logging.INFO, logger="bot.runtime")
    port = int(sandbox.base_url.rsplit(":", 1)[1])
    async with running_bot(settings) as runtime:
        sandbox.send_text(42_001, "/help")
        await sandbox.wait_for_messages(42_001, 1, timeout=10)
        health = await runtime.health()
        assert health["ok"]
        assert health["last_poll_age"] is not None
        assert health["last_poll_age"] <= settings.poll_timeout + 1

        # Telegram becomes unreachable: getUpdates keeps failing, so no poll succeeds.
        await sandbox.stop()
        stopped = time.monotonic()

        def alerted() -> bool:
            return any(
                "ALERT" in r.getMessage() and "getUpdates" in r.getMessage()
                for r in caplog.records
            )

        await eventually(
            alerted,
            threshold + settings.poll_timeout + threshold / 3 + 2,
            what="watchdog ALERT in the log",
        )
        print(f"ALERT {time.monotonic() - stopped:.2f} s after the last chance to poll")
        health = await runtime.health()
        assert not health["ok"]
        assert not health["polling"]
        # At least the threshold (the alert says it was passed; /healthz rounds to 0.1 s).
        assert health["last_poll_age"] >= threshold
        # It keeps looking; the staff alert is still queued once per hour, not per look.
        await eventually(
            lambda: sum(alerted_lines(caplog)) >= 2, threshold + 1, what="a second look"
        )

        await sandbox.start(port=port)
        [message] = await sandbox.wait_for_messages(staff, 1, timeout=15)
        assert message["text"].startswith("Тревога")
        assert "Telegram" in message["text"]
        await eventually(
            lambda: (_ := runtime.poll_age()) is not None and _ < threshold,
            10,
            what="polling again",
        )
        assert (await runtime.health())["ok"]
    rows = query(
        db_path,
        "SELECT chat_id, status, dedupe_key FROM "
        "outbox_message WHERE dedupe_key LIKE 'alert:poller:%'",
    )
    assert len(rows) == 1
    assert rows[0][:2] == (staff, "sent")
    assert len(rows[0][2]) == len("alert:poller:2026010112")
    assert len(sandbox.messages(staff)) == 1


def alerted_lines(caplog: pytest.LogCaptureFixture) -> list[bool]:
    return [True for r in caplog.records if "ALERT" in r.getMessage()]


async def test_settings_poll_alert_after_defaults_to_300(sandbox: Sandbox, tmp_path: Path) -> None:
    assert settings_for(sandbox, Database.sqlite(tmp_path / "x.sqlite3")).poll_alert_after == 300.0
    await asyncio.sleep(0)
