"""How the outbox treats each answer of the Bot API (RELIABILITY's outbox table, rows 11, 12,
14, 15, 16): the real bot in this process, polling the sandbox over HTTP, on a SQLite file.

Rows the handlers cannot produce yet (a message to a group, a 5,000-character text, HTML with
broken tags, a chat that does not exist) are queued with plain SQL in `outbox_message`, the way
an operator's tool would: the only group message today is the watchdog's hourly staff alert,
which cannot make a backlog of several rows, and no handler writes a parse_mode or a text over
Telegram's limit. The sender cannot tell these rows from a handler's.
"""

from __future__ import annotations

import time
from pathlib import Path

from bot.sandbox import FaultConfig, Sandbox
from tests.databases import Database
from tests.harness import (
    eventually,
    insert_outbox,
    outbox_row,
    query,
    running_bot,
    settings_for,
    texts,
)


def sends(sandbox: Sandbox) -> int:
    return sandbox.stats.get("sendMessage", 0)


def reply_rows(db_path: Database, chat: int) -> list[tuple[int, str, int]]:
    return query(
        db_path,
        "SELECT id, status, attempts FROM outbox_message WHERE chat_id = ? ORDER BY id",
        (chat,),
    )


async def test_row_11_timeout_after_delivery_is_retried_once_and_ends_sent(
    sandbox: Sandbox, tmp_path: Path, db_path: Database
) -> None:
    chat = 51_001
    request_timeout = 1.0
    settings = settings_for(sandbox, db_path, MINSHENG_REQUEST_TIMEOUT=str(request_timeout))
    async with running_bot(settings):
        # Telegram records the message, then answers after the bot stopped waiting (1.5 s > 1 s).
        sandbox.faults = FaultConfig(
            rate=1.0, kinds=("timeout",), timeout_seconds=1.5, methods=frozenset({"sendMessage"})
        )
        sandbox.send_text(chat, "/help")
        await sandbox.wait_for_messages(chat, 1, timeout=10)
        [(row_id, _, _)] = await eventually(
            lambda: [r for r in reply_rows(db_path, chat) if r[1] == "uncertain"],
            5,
            what="row marked uncertain",
        )
        sandbox.faults = FaultConfig()  # the network is fine again
        first, second = await sandbox.wait_for_messages(chat, 2, timeout=10)
        # The retry waits a backoff (≥ 0.375 s) after the timeout, so it never races it.
        gap = second["at"] - first["at"]
        assert gap >= request_timeout + 0.3, f"retried {gap:.2f} s after the first send"
        await eventually(lambda: outbox_row(db_path, row_id)["status"] == "sent", 5)
        # A later message of the chat comes after it, and nothing more of the first.
        sandbox.send_text(chat, "/x1")
        await eventually(lambda: any("/x1" in t for t in texts(sandbox.messages(chat))), 10)
    got = texts(sandbox.messages(chat))
    print(
        f"deliveries {len(got)}, retry {gap:.2f} s after the first send, "
        f"timeouts injected {sandbox.stats['faults_injected']}"
    )
    assert sandbox.stats["faults_injected"] == 1  # one timed-out send, then one retry
    assert len(got) == 3, got
    assert got[0] == got[1]
    assert "/x1" in got[2]
    assert sends(sandbox) == 3  # delivered exactly twice, then the next one: no loop
    row = outbox_row(db_path, row_id)
    assert row["status"] == "sent"
    assert row["attempts"] >= 1  # the timeout counted
    assert row["message_id"] == second["message_id"]


async def test_row_12_a_429_storm_pauses_each_chat_and_delivers_everything_after(
    sandbox: Sandbox, tmp_path: Path, db_path: Database
) -> None:
    chats = [52_001 + n for n in range(5)]
    retry_after, storm = 2, 4.0
    async with running_bot(settings_for(sandbox, db_path)) as runtime:
        sandbox.faults = FaultConfig(
            rate=1.0, kinds=("429",), retry_after=retry_after, methods=frozenset({"sendMessage"})
        )
        began = time.monotonic()
        for chat in chats:
            for i in range(2):
                sandbox.send_text(chat, f"/s{chat}m{i}")
        await eventually(lambda: runtime.dispatcher.handled >= 10, 5)
        await eventually(lambda: time.monotonic() - began >= storm, storm + 1, interval=0.05)
        during = sends(sandbox)
        sandbox.faults = FaultConfig()
        for chat in chats:
            await sandbox.wait_for_messages(chat, 2, timeout=retry_after + 5)
    # Each chat waits retry_after (plus jitter) after each 429: at most one call per chat per
    # window, so storm / retry_after + 1 calls per chat; a hot loop would make hundreds.
    bound = len(chats) * (int(storm / retry_after) + 1)
    print(f"calls during the {storm:.0f} s storm: {during} (bound {bound})")
    assert len(chats) <= during <= bound
    for chat in chats:
        got = texts(sandbox.messages(chat))
        assert len(got) == 2
        assert f"/s{chat}m0" in got[0]
        assert f"/s{chat}m1" in got[1]
    assert {s for _, s, _ in query(db_path, "SELECT id, status, 0 FROM outbox_message")} == {
        "sent"
    }
    # A 429 is not a failure: it does not count as an attempt (at most the one that succeeded
    # does; each chat's first row met two or three 429s).
    [(attempts,)] = query(db_path, "SELECT max(attempts) FROM outbox_message")
    assert attempts <= 1


async def test_row_14_blocked_or_deactivated_is_unreachable_once_and_others_unaffected(
    sandbox: Sandbox, tmp_path: Path, db_path: Database
) -> None:
    blocked, gone, fine = 54_001, 54_002, 54_003
    async with running_bot(settings_for(sandbox, db_path)):
        sandbox.faults = FaultConfig(blocked_users={blocked}, deactivated_users={gone})
        sandbox.send_text(blocked, "/start")
        sandbox.send_text(gone, "/start")
        await eventually(
            lambda: (
                [s for _, s, _ in reply_rows(db_path, blocked) + reply_rows(db_path, gone)]
                == ["failed", "failed"]
            ),
            5,
            what="both rows failed",
        )
        assert sends(sandbox) == 2  # one attempt each
        sandbox.send_text(fine, "/start")
        await sandbox.wait_for_messages(fine, 1, timeout=5)
        assert sends(sandbox) == 3  # no retry of the two, meanwhile
        for chat, reason in ((blocked, "blocked by the user"), (gone, "user is deactivated")):
            [(row_id, status, attempts)] = reply_rows(db_path, chat)
            assert (status, attempts) == ("failed", 1)
            assert reason in outbox_row(db_path, row_id)["error"]
            assert query(db_path, "SELECT unreachable FROM citizen WHERE id = ?", (chat,)) == [
                (1,)
            ]
            assert sandbox.messages(chat) == []
        assert query(db_path, "SELECT unreachable FROM citizen WHERE id = ?", (fine,)) == [(0,)]

        # They unblock the bot and write again: reachable again, and answered.
        sandbox.faults = FaultConfig(deactivated_users={gone})
        sandbox.send_text(blocked, "/help")
        await sandbox.wait_for_messages(blocked, 1, timeout=5)
    assert query(db_path, "SELECT unreachable FROM citizen WHERE id = ?", (blocked,)) == [(0,)]
    assert [s for _, s, _ in reply_rows(db_path, blocked)] == ["failed", "sent"]


async def test_row_15_chat_migrated_moves_pending_rows_and_delivers_once(
    sandbox: Sandbox, tmp_path: Path, db_path: Database
) -> None:
    old, new = -4_000_001, -1_004_000_001
    settings = settings_for(sandbox, db_path)
    async with running_bot(settings):  # creates the database
        pass
    rows = [insert_outbox(db_path, old, "sendMessage", {"text": f"notice {i}"}) for i in range(3)]
    sandbox.faults = FaultConfig(migrated_chats={old: new})
    async with running_bot(settings):
        await sandbox.wait_for_messages(new, 3, timeout=10)
        await eventually(lambda: all(outbox_row(db_path, r)["status"] == "sent" for r in rows), 5)
    assert texts(sandbox.messages(new)) == ["notice 0", "notice 1", "notice 2"]
    assert sandbox.messages(old) == []
    assert sends(sandbox) == 4  # one refused with migrate_to_chat_id, then each once
    for row_id in rows:
        row = outbox_row(db_path, row_id)
        assert (row["chat_id"], row["status"]) == (new, "sent")


async def test_row_16_bad_requests_are_split_made_plain_or_failed_without_retry(
    sandbox: Sandbox, tmp_path: Path, db_path: Database
) -> None:
    long_chat, html_chat, nowhere = 56_001, 56_002, 0
    settings = settings_for(sandbox, db_path)
    async with running_bot(settings):
        pass
    words = " ".join(f"w{i:04d}" for i in range(1000))  # 5,999 characters, breaks at spaces
    assert len(words) > 5000
    long_row = insert_outbox(db_path, long_chat, "sendMessage", {"text": words})
    html_row = insert_outbox(
        db_path, html_chat, "sendMessage", {"text": "<b>Case A-1 <i>open", "parse_mode": "HTML"}
    )
    lost_row = insert_outbox(db_path, nowhere, "sendMessage", {"text": "to nobody"})
    async with running_bot(settings):
        parts = await sandbox.wait_for_messages(long_chat, 2, timeout=10)
        [plain] = await sandbox.wait_for_messages(html_chat, 1, timeout=10)
        await eventually(lambda: outbox_row(db_path, lost_row)["status"] == "failed", 5)
        await eventually(lambda: outbox_row(db_path, long_row)["status"] == "sent", 5)
    # Too long: split into parts Telegram takes, all delivered, nothing lost.
    assert len(parts) == 2
    assert all(len(p["text"]) <= 4096 for p in parts)
    assert " ".join(texts(parts)).split() == words.split()
    # Can't parse entities: re-sent without parse_mode, the tags shown as typed.
    assert (plain["text"], plain["parse_mode"]) == ("<b>Case A-1 <i>open", None)
    assert outbox_row(db_path, html_row)["status"] == "sent"
    # Chat not found: a BadRequest, permanent although it subclasses NetworkError: one attempt.
    row = outbox_row(db_path, lost_row)
    assert (row["status"], row["attempts"]) == ("failed", 1)
    assert "chat not found" in row["error"].lower()
    # Calls: too long 1 + 2 parts, HTML 1 + 1 plain, chat not found 1 (no retry).
    assert sends(sandbox) == 6
