"""Ingress end to end: the real runtime, over real HTTP, against the sandbox, on a SQLite file.

Webhook mode runs `Runtime.run_webhook(make_web_app(...))` in this process on a free port; the
sandbox delivers to it after the bot's own setWebhook. Some tests also POST to the webhook
directly, as Telegram (or a forger) would.
"""

from __future__ import annotations

import asyncio
import re
import time
from typing import Any

import aiohttp
import pytest
from tortoise.connection import get_connection

from bot.sandbox import Sandbox
from bot.settings import Settings
from tests.databases import Database
from tests.harness import (
    ROOT,
    ApiRecorder,
    other_writer,
    polling_bot,
    query,
    settings_for,
    texts,
    wait_handled,
    wait_until,
    webhook_bot,
    webhook_settings,
)
from tests.webhook_desk import HEADER, SECRET, inbox_ids, private_update

WELCOME_EN = "Welcome"
WELCOME_ZH_HANS = "欢迎"


async def post(settings: Settings, body: dict[str, Any], secret: str | None) -> int:
    """POST one update to the bot's webhook; returns the HTTP status."""
    assert settings.webhook_url
    headers = {HEADER: secret} if secret is not None else {}
    async with (
        aiohttp.ClientSession() as session,
        session.post(settings.webhook_url, json=body, headers=headers) as response,
    ):
        await response.read()
        return response.status


def replies_to(db_path: Database, update_id: int) -> int:
    sql = "SELECT count(*) FROM outbox_message WHERE update_id = ?"
    return int(query(db_path, sql, (update_id,))[0][0])


async def test_webhook_carries_start_to_the_reply(sandbox: Sandbox, db_path: Database) -> None:
    """Issue 2: the webhook carries /start from a user to the reply in the right language.

    setWebhook is called at start-up with the URL and the secret; the sandbox then posts the
    user's update to the bot, which stores it, handles it and sends the welcome."""
    settings = webhook_settings(sandbox, db_path, SECRET)
    async with webhook_bot(settings, sandbox, db_path):
        webhook = sandbox.api.webhook
        assert webhook is not None
        assert (webhook.url, webhook.secret) == (settings.webhook_url, SECRET)
        assert sandbox.stats.get("setWebhook") == 1

        update = sandbox.send_text(3101, "/start", language_code="zh-hans")
        [welcome] = await sandbox.wait_for_messages(3101, 1, timeout=10)
        assert WELCOME_ZH_HANS in welcome["text"]
        labels = [b["text"] for row in welcome["reply_markup"]["keyboard"] for b in row]
        assert {"帮助", "语言"} <= set(labels)  # the main menu, labelled in Chinese
        assert sandbox.stats["webhook_deliveries"] >= 1
        assert sandbox.stats.get("getUpdates", 0) == 0  # no polling in webhook mode
    rows = query(db_path, "SELECT update_id, status FROM inbox_update")
    assert rows == [(update["update_id"], "done")]


async def test_webhook_refuses_a_missing_or_wrong_secret(
    sandbox: Sandbox, db_path: Database
) -> None:
    """RELIABILITY row 3: a webhook POST with a missing or wrong secret header gets 403 and
    nothing is stored; the right secret gets 200, the update is stored and answered."""
    settings = webhook_settings(sandbox, db_path, SECRET)
    async with webhook_bot(settings, sandbox, db_path):
        assert await post(settings, private_update(10_001, 3201, "/start"), None) == 403
        assert await post(settings, private_update(10_002, 3201, "/start"), "wrong") == 403
        near_miss = SECRET[:-1] + ("x" if SECRET[-1] != "x" else "y")
        assert await post(settings, private_update(10_003, 3201, "/start"), near_miss) == 403
        assert await post(settings, private_update(10_004, 3201, "/start"), "") == 403
        assert await post(settings, private_update(10_005, 3201, "/start"), SECRET) == 200
        [welcome] = await sandbox.wait_for_messages(3201, 1, timeout=10)
        assert WELCOME_EN in welcome["text"]
    assert inbox_ids(db_path) == [10_005]
    assert query(db_path, "SELECT count(*) FROM outbox_message WHERE chat_id = 3201") == [(1,)]


async def test_a_redelivered_update_has_one_effect(sandbox: Sandbox, db_path: Database) -> None:
    """RELIABILITY row 2: the same update POSTed twice, and another POSTed five times at
    once, each answered 200, is stored once and has one business effect (one reply)."""
    settings = webhook_settings(sandbox, db_path, SECRET)
    twice = private_update(10_101, 3301, "/start")
    concurrent = private_update(10_102, 3302, "/start", language_code="ru")
    async with webhook_bot(settings, sandbox, db_path):
        assert await post(settings, twice, SECRET) == 200
        await sandbox.wait_for_messages(3301, 1, timeout=10)
        assert await post(settings, twice, SECRET) == 200  # after it was handled

        statuses = await asyncio.gather(*(post(settings, concurrent, SECRET) for _ in range(5)))
        assert statuses == [200] * 5
        [welcome] = await sandbox.wait_for_messages(3302, 1, timeout=10)
        assert "Добро пожаловать" in welcome["text"]
        # A second reply, if any, would be queued with the first: both updates handled and the
        # outbox sent, nothing more can come of them.
        await wait_handled(db_path, twice, concurrent)
        assert len(sandbox.messages(3301)) == 1
        assert len(sandbox.messages(3302)) == 1
    assert sorted(inbox_ids(db_path)) == [10_101, 10_102]
    assert replies_to(db_path, 10_101) == 1
    assert replies_to(db_path, 10_102) == 1
    assert query(db_path, "SELECT id FROM citizen WHERE id IN (3301, 3302) ORDER BY id") == [
        (3301,),
        (3302,),
    ]


@pytest.mark.sqlite_only(reason="SQLite's write lock and its busy timeout")
async def test_webhook_answers_503_while_the_database_is_locked(
    sandbox: Sandbox, db_path: Database
) -> None:
    """RELIABILITY row 4: while another writer holds the SQLite lock for longer than the
    busy timeout, a webhook POST gets 503 (so Telegram retries) and nothing is stored; once
    the lock is released, the same POST gets 200 and is stored and answered."""
    settings = webhook_settings(
        sandbox, db_path, SECRET, MINSHENG_DATABASE_URL=f"{db_path.url}?busy_timeout=300"
    )
    update = private_update(10_201, 3401, "/start")
    async with webhook_bot(settings, sandbox, db_path):
        assert query(db_path, "PRAGMA journal_mode") == [("wal",)]
        # The bot gives up after its busy timeout (300 ms), not the default 10 s ...
        _, timeout = await get_connection("default").execute_query("PRAGMA busy_timeout")
        assert timeout[0][0] == 300
        async with other_writer(db_path):
            started = time.monotonic()
            assert await post(settings, update, SECRET) == 503
            waited = time.monotonic() - started
            assert inbox_ids(db_path) == []
        # ... so the 503 came while the other writer still held the lock.
        print(f"the bot waited {waited:.2f} s for the lock")
        assert sandbox.messages(3401) == []

        assert await post(settings, update, SECRET) == 200
        [welcome] = await sandbox.wait_for_messages(3401, 1, timeout=10)
        assert WELCOME_EN in welcome["text"]
    assert query(db_path, "SELECT update_id, status FROM inbox_update") == [(10_201, "done")]
    assert replies_to(db_path, 10_201) == 1


@pytest.mark.sqlite_only(reason="SQLite's write lock and its busy timeout")
async def test_polling_survives_a_lock_longer_than_the_busy_timeout(
    sandbox: Sandbox, db_path: Database
) -> None:
    """RELIABILITY row 4, polling side: when the inbox cannot be written (the database is
    locked beyond the busy timeout), the poller must not die nor confirm the batch; it tries
    again and the update is answered once the lock is gone."""
    settings = settings_for(
        sandbox, db_path, MINSHENG_DATABASE_URL=f"{db_path.url}?busy_timeout=200"
    )
    async with polling_bot(settings, db_path) as runtime:
        sandbox.send_text(3501, "/start")
        await sandbox.wait_for_messages(3501, 1, timeout=10)
        async with other_writer(db_path):
            polls = sandbox.stats.get("getUpdates", 0)
            sandbox.send_text(3502, "/start")
            # The poller fetches the update, fails to store it, and polls again.
            await wait_until(
                lambda: sandbox.stats.get("getUpdates", 0) >= polls + 1,
                5,
                "the poller to poll again after a failed store",
            )
            assert inbox_ids(db_path) == [1]
        sandbox.send_text(3503, "/help")
        await sandbox.wait_for_messages(3502, 1, timeout=10)
        await sandbox.wait_for_messages(3503, 1, timeout=10)
        assert not runtime.stop.is_set()
    assert query(db_path, "SELECT update_id, status FROM inbox_update ORDER BY id") == [
        (1, "done"),
        (2, "done"),
        (3, "done"),
    ]


async def test_no_start_up_drops_pending_updates(sandbox: Sandbox, db_path: Database) -> None:
    """RELIABILITY row 7: no code path starts with drop_pending_updates=True.

    The source never sets it, and in a real polling session and a real webhook session (every
    Bot API call recorded by a proxy in front of the sandbox) no getUpdates, setWebhook or
    deleteWebhook carried it; updates waiting before start-up are answered in both modes."""
    setting_true = re.compile(r"""drop_pending_updates["']?\s*[:=]\s*True""")
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for folder in ("bot", "handlers", "storage")
        for path in (ROOT / folder).rglob("*.py")
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if setting_true.search(line)
    ]
    assert offenders == []

    recorder = ApiRecorder(sandbox.base_url)
    await recorder.start()
    try:
        sandbox.send_text(3601, "/start")  # waits in Telegram's queue before the bot starts
        settings = settings_for(sandbox, db_path, MINSHENG_BOT_API_URL=recorder.api_url)
        async with polling_bot(settings, db_path):
            await sandbox.wait_for_messages(3601, 1, timeout=10)

        sandbox.send_text(3602, "/start")  # waits again, this time for the webhook
        hooked = webhook_settings(sandbox, db_path, SECRET, MINSHENG_BOT_API_URL=recorder.api_url)
        async with webhook_bot(hooked, sandbox, db_path):
            await sandbox.wait_for_messages(3602, 1, timeout=10)
    finally:
        await recorder.stop()

    lifecycle = {m: recorder.of(m) for m in ("getUpdates", "setWebhook", "deleteWebhook")}
    assert all(lifecycle.values()), f"every lifecycle call was seen: {lifecycle}"
    for method, calls in lifecycle.items():
        for params in calls:
            assert str(params.get("drop_pending_updates", "false")).lower() in ("false", "0"), (
                method,
                params,
            )
    assert texts(sandbox.messages(3601))[0].startswith(WELCOME_EN)
    assert texts(sandbox.messages(3602))[0].startswith(WELCOME_EN)
