"""Settings and logs, as an operator meets them: the real `python -m bot` as a child process."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

from bot.sandbox import FaultConfig, Sandbox
from tests.databases import Database
from tests.harness import (
    TEST_TOKEN,
    BotProcess,
    bot_env,
    outbox_open,
    query,
    sandbox_config,
    texts,
    wait_until,
)
from tests.start_up import start_up

TOKEN_IN_URL = re.compile(r"bot\d+:")


async def test_the_token_never_reaches_the_logs(tmp_path: Path, db_path: Database) -> None:
    """RELIABILITY row 39: a whole session of the real bot process (start-up, /start, a 429
    and a 500 from the Bot API, SIGTERM) with a token shaped like a real one: its output
    never shows the token nor `bot<digits>:`, and it does log (so the check means something)."""
    sandbox = Sandbox(sandbox_config(token=TEST_TOKEN))
    await sandbox.start()
    bot = BotProcess(bot_env(sandbox, db_path), tmp_path / "bot.log")
    try:
        bot.start()
        sandbox.send_text(6101, "/start")
        await sandbox.wait_for_messages(6101, 1, timeout=30)

        for kind in ("429", "500"):  # one of each on the next reply, then calm
            injected = sandbox.stats["faults_injected"]
            sandbox.faults = FaultConfig(
                rate=1.0, kinds=(kind,), retry_after=1, methods=frozenset({"sendMessage"})
            )
            if kind == "429":
                sandbox.send_text(6101, "/help")
            await wait_until(
                lambda n=injected: sandbox.stats["faults_injected"] > n, 10, f"a {kind} fault"
            )
        sandbox.faults = FaultConfig()
        messages = await sandbox.wait_for_messages(6101, 2, timeout=20)
        assert "emergencies" in texts(messages)[1]
        # Stop once the sends are recorded (a stop while they are being recorded can hang:
        # see test_dispatch.test_stopping_right_after_replies_never_hangs).
        await wait_until(lambda: outbox_open(db_path) == 0, 10, "the outbox to settle")

        bot.terminate()
        assert await bot.wait(timeout=30) == 0
    finally:
        bot.kill()
        await sandbox.stop()

    output = bot.log()
    secret_part = TEST_TOKEN.split(":", 1)[1]
    assert TEST_TOKEN not in output
    assert secret_part not in output
    assert not TOKEN_IN_URL.search(output), TOKEN_IN_URL.search(output)
    assert "database ready" in output  # logging worked: this is the whole output
    assert sandbox.stats["faults_injected"] >= 2
    assert query(
        db_path, "SELECT count(*) FROM outbox_message WHERE chat_id = 6101 AND status = 'sent'"
    ) == [(2,)]


CASES = {
    "no token": ("run", {}, "MINSHENG_BOT_TOKEN"),
    "empty token": ("run", {"MINSHENG_BOT_TOKEN": "  "}, "MINSHENG_BOT_TOKEN"),
    "webhook without its secret": (
        "webhook",
        {"MINSHENG_BOT_TOKEN": TEST_TOKEN},
        "MINSHENG_WEBHOOK_SECRET",
    ),
    "malformed admin ids": (
        "run",
        {"MINSHENG_BOT_TOKEN": TEST_TOKEN, "MINSHENG_ADMIN_IDS": "abc"},
        "MINSHENG_ADMIN_IDS",
    ),
    "unknown time zone": (
        "run",
        {"MINSHENG_BOT_TOKEN": TEST_TOKEN, "MINSHENG_TIMEZONE": "Mars/Base"},
        "MINSHENG_TIMEZONE",
    ),
    "malformed listen address": (
        "webhook",
        {
            "MINSHENG_BOT_TOKEN": TEST_TOKEN,
            "MINSHENG_WEBHOOK_SECRET": "s",
            "MINSHENG_WEBHOOK_LISTEN": "nope",
        },
        "MINSHENG_WEBHOOK_LISTEN",
    ),
    "unknown default language": (
        "run",
        {"MINSHENG_BOT_TOKEN": TEST_TOKEN, "MINSHENG_DEFAULT_LANGUAGE": "xx"},
        "MINSHENG_DEFAULT_LANGUAGE",
    ),
}


async def test_a_missing_or_malformed_setting_stops_start_up(tmp_path: Path) -> None:
    """RELIABILITY row 40: without the token (or the webhook's secret), or with a malformed
    setting, `python -m bot run|webhook` exits with code 2 and one line on stderr that names
    the variable; nothing else is printed, no token is shown, and no database is created."""
    folders = {name: tmp_path / f"case{n}" for n, name in enumerate(CASES)}
    for folder in folders.values():
        folder.mkdir()
    results = await asyncio.gather(
        *(start_up(folders[name], command, env) for name, (command, env, _) in CASES.items())
    )
    problems = []
    for (name, (_, _, variable)), (code, out, err) in zip(CASES.items(), results, strict=True):
        lines = err.strip().splitlines()
        if code != 2 or len(lines) != 1 or variable not in lines[0] or out:
            problems.append(f"{name}: exit {code}, stdout {out!r}, stderr {err!r}")
        if TEST_TOKEN in err + out or TEST_TOKEN.split(":")[1] in err + out:
            problems.append(f"{name}: the token was printed")
        if any(folders[name].iterdir()):
            problems.append(f"{name}: left {sorted(p.name for p in folders[name].iterdir())}")
    assert problems == []
