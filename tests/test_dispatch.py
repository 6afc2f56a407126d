"""The dispatcher end to end: the real runtime polling the sandbox, on a real SQLite file.

Failures roll back alone, edits run nothing, odd update shapes are ignored safely, and a second
writer on the database costs time, not messages.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from telegram import Update
from telegram.ext import CommandHandler

from bot.context import MinshengContext
from bot.i18n import Catalogs
from bot.runtime import Runtime
from bot.sandbox import Sandbox
from handlers.common import send, who
from handlers.errors import apology
from storage.citizens import choose_language
from tests.databases import Database
from tests.harness import (
    inbox_statuses,
    other_writer,
    polling_bot,
    query,
    settings_for,
    texts,
    wait_handled,
    wait_inbox_settled,
    wait_until,
)

HELP_MARKER = {"en": "emergencies", "zh_Hant": "熱線", "ru": "экстренн"}
BOOM_TEXT = "BOOM: a message that must never be sent"
BOOM_ERROR = "boom: deliberate failure after two writes"
NOW = int(time.time())


def failed_rows(db_path: Database) -> list[tuple[Any, ...]]:
    return query(
        db_path, "SELECT update_id, error, payload FROM inbox_update WHERE status = 'failed'"
    )


def citizen_row(db_path: Database, user_id: int) -> list[tuple[Any, ...]]:
    return query(db_path, "SELECT * FROM citizen WHERE id = ?", (user_id,))


# -- row 5 ------------------------------------------------------------------------------------


async def boom(update: Update, context: MinshengContext) -> None:
    """A feature that writes through our storage, then fails half-way."""
    citizen, _ = await who(update, context)
    await send(update, context, BOOM_TEXT)
    await choose_language(citizen.id, "ru")
    raise RuntimeError(BOOM_ERROR)


def add_boom(runtime: Runtime) -> None:
    runtime.app.add_handler(CommandHandler("boom", boom), group=-10)


async def test_a_failing_handler_rolls_back_alone(sandbox: Sandbox, db_path: Database) -> None:
    """RELIABILITY row 5: a handler that raises mid-transaction leaves no trace.

    /boom queues a message and switches the citizen's language, then raises. Its savepoint
    rolls back (no such outbox row, language unchanged), its inbox row is `failed` with the
    error, the citizen gets the apology in their own language, and the chat's next update is
    answered normally."""
    user = 5101
    t = Catalogs().get("zh_Hant")
    async with polling_bot(settings_for(sandbox, db_path), db_path, add_boom):
        sandbox.send_text(user, "/start", language_code="zh-TW")
        await sandbox.wait_for_messages(user, 1, timeout=10)
        before = citizen_row(db_path, user)
        failing = sandbox.send_text(user, "/boom")
        sandbox.send_text(user, "/help")
        messages = await sandbox.wait_for_messages(user, 3, timeout=10)

    welcome, sorry, help_ = texts(messages)[:3]
    assert "歡迎" in welcome
    assert sorry == apology(t)
    assert HELP_MARKER["zh_Hant"] in help_
    assert len(messages) == 3

    status, error = query(
        db_path,
        "SELECT status, error FROM inbox_update WHERE update_id = ?",
        (failing["update_id"],),
    )[0]
    assert status == "failed"
    assert BOOM_ERROR in error
    assert query(
        db_path,
        "SELECT count(*) FROM outbox_message WHERE CAST(payload AS TEXT) LIKE ?",
        ("%must never be sent%",),
    ) == [(0,)]
    assert citizen_row(db_path, user) == before
    assert query(
        db_path, "SELECT language, language_chosen FROM citizen WHERE id = ?", (user,)
    ) == [("zh_Hant", 0)]
    assert query(db_path, "SELECT count(*) FROM inbox_update WHERE status != 'done'") == [(1,)]


# -- row 21 -----------------------------------------------------------------------------------


async def test_edited_commands_do_nothing(sandbox: Sandbox, db_path: Database) -> None:
    """RELIABILITY row 21: an edited message that now reads "/start", "/language" or a menu
    label gets no reply and changes nothing, while the next new /help is answered."""
    user = 5201
    async with polling_bot(settings_for(sandbox, db_path), db_path):
        original = sandbox.send_text(user, "/help", language_code="ru")
        await sandbox.wait_for_messages(user, 1, timeout=10)
        before = citizen_row(db_path, user)
        message_id = original["message"]["message_id"]
        edits = [
            sandbox.send_text(user, text, edit_of=message_id, language_code="en")
            for text in ("/start", "/language", "Language", "/start track-X")
        ]
        last = sandbox.send_text(user, "/help", language_code="ru")
        messages = await sandbox.wait_for_messages(user, 2, timeout=10)
        # A reply to an edit would have been queued before the /help answer; with every
        # update handled and the outbox sent, nothing can trail behind.
        await wait_handled(db_path, original, *edits, last)
        messages = sandbox.messages(user)

    assert len(messages) == 2, texts(messages)
    assert all(HELP_MARKER["ru"] in text for text in texts(messages))
    edit_ids = tuple(edit["update_id"] for edit in edits)
    for edit_id in edit_ids:
        assert query(
            db_path, "SELECT status FROM inbox_update WHERE update_id = ?", (edit_id,)
        ) == [("done",)]
        assert query(
            db_path, "SELECT count(*) FROM outbox_message WHERE update_id = ?", (edit_id,)
        ) == [(0,)]
    assert citizen_row(db_path, user) == before


# -- row 33 -----------------------------------------------------------------------------------

CITIZEN_USER = {"id": 5301, "is_bot": False, "first_name": "Wen", "language_code": "en"}
CHANNEL = {"id": -1005300001, "type": "channel", "title": "City news"}
GROUP = {"id": -5300002, "type": "group", "title": "Neighbours"}
BOT_USER = {"id": 123456, "is_bot": True, "first_name": "Minsheng", "username": "minsheng_bot"}


def command(text: str) -> dict[str, Any]:
    return {
        "text": text,
        "entities": [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}],
    }


ODD_SHAPES: dict[str, dict[str, Any]] = {
    "channel_post": {
        "channel_post": {"message_id": 1, "chat": CHANNEL, "date": NOW, **command("/start")}
    },
    "edited_channel_post": {
        "edited_channel_post": {
            "message_id": 1,
            "chat": CHANNEL,
            "date": NOW,
            "edit_date": NOW,
            **command("/help"),
        }
    },
    "group message on behalf of a channel, no from": {
        "message": {
            "message_id": 2,
            "chat": GROUP,
            "sender_chat": CHANNEL,
            "date": NOW,
            **command("/start"),
        }
    },
    "private message without from": {
        "message": {
            "message_id": 3,
            "chat": {"id": 5302, "type": "private", "first_name": "Nobody"},
            "date": NOW,
            **command("/start"),
        }
    },
    "my_chat_member": {
        "my_chat_member": {
            "chat": GROUP,
            "from": CITIZEN_USER,
            "date": NOW,
            "old_chat_member": {"status": "left", "user": BOT_USER},
            "new_chat_member": {"status": "member", "user": BOT_USER},
        }
    },
    "unknown top-level kind": {
        "brand_new_kind": {"id": 7, "from": CITIZEN_USER, "nested": {"deeper": [1, "two", None]}}
    },
    "message with unknown extra fields": {
        "message": {
            "message_id": 4,
            "from": CITIZEN_USER,
            "date": NOW,
            "chat": {"id": 5301, "type": "private", "first_name": "Wen"},
            "future_field": {"x": 1},
            **command("/help"),
        },
        "future_top_level_field": {"y": [2]},
    },
    "poll": {
        "poll": {
            "id": "p1",
            "question": "Roads?",
            "total_voter_count": 0,
            "options": [{"text": "yes", "voter_count": 0, "persistent_id": "a"}],
            "is_closed": False,
            "is_anonymous": True,
            "type": "regular",
            "allows_multiple_answers": False,
            "allows_revoting": False,
            "members_only": False,
        }
    },
    "callback_query without message": {
        "callback_query": {
            "id": "cq-inline-1",
            "from": CITIZEN_USER,
            "chat_instance": "ci",
            "inline_message_id": "im-1",
            "data": "not-ours",
        }
    },
    "callback_query without message or data": {
        "callback_query": {
            "id": "cq-inline-2",
            "from": CITIZEN_USER,
            "chat_instance": "ci",
            "game_short_name": "snake",
        }
    },
    "unknown entity type": {
        "message": {
            "message_id": 5,
            "from": CITIZEN_USER,
            "date": NOW,
            "chat": {"id": 5301, "type": "private", "first_name": "Wen"},
            "text": "/help me ✨",
            "entities": [
                {"type": "bot_command", "offset": 0, "length": 5},
                {"type": "sparkle_2031", "offset": 9, "length": 1},
            ],
        }
    },
}


async def test_unexpected_update_shapes_are_ignored_safely(
    sandbox: Sandbox, db_path: Database
) -> None:
    """RELIABILITY row 33: channel posts, a message without `from`, a citizen's group
    message, my_chat_member, unknown fields and kinds, a poll, callback queries without a
    message, an unknown entity type: all go through the real pipeline, every inbox row ends
    `done` (none `failed`), nothing is said in a group or channel, and the bot still answers."""
    async with polling_bot(settings_for(sandbox, db_path), db_path):
        injected = [sandbox.inject_update(shape) for shape in ODD_SHAPES.values()]
        injected.append(sandbox.send_text(5303, "/start", chat_id=GROUP["id"]))
        injected.append(sandbox.send_text(5303, "hello neighbours", chat_id=GROUP["id"]))
        await wait_inbox_settled(db_path, len(injected))
        sandbox.send_text(5304, "/help")
        await sandbox.wait_for_messages(5304, 1, timeout=10)
        await wait_inbox_settled(db_path, len(injected) + 1)

    names = {
        u["update_id"]: name
        for u, name in zip(injected, [*ODD_SHAPES, "group /start", "group text"], strict=True)
    }
    failed = [(names.get(uid), error) for uid, error, _ in failed_rows(db_path)]
    assert failed == [], failed
    assert inbox_statuses(db_path) == {"done": len(injected) + 1}
    for chat in (CHANNEL["id"], GROUP["id"]):
        assert sandbox.messages(chat) == []
    assert query(db_path, "SELECT count(*) FROM outbox_message WHERE chat_id < 0") == [(0,)]
    # The unknown extra fields did not stop the message they came with.
    assert any(HELP_MARKER["en"] in text for text in texts(sandbox.messages(5301)))


UPDATE_KINDS = (
    "message",
    "edited_message",
    "channel_post",
    "edited_channel_post",
    "business_connection",
    "business_message",
    "edited_business_message",
    "deleted_business_messages",
    "message_reaction",
    "message_reaction_count",
    "inline_query",
    "chosen_inline_result",
    "callback_query",
    "shipping_query",
    "pre_checkout_query",
    "purchased_paid_media",
    "poll",
    "poll_answer",
    "my_chat_member",
    "chat_member",
    "chat_join_request",
    "chat_boost",
    "removed_chat_boost",
)
FIELD_NAMES = (
    "id",
    "from",
    "chat",
    "date",
    "text",
    "type",
    "message_id",
    "entities",
    "data",
    "message",
    "title",
    "first_name",
    "language_code",
    "is_bot",
    "offset",
    "length",
    "user",
    "status",
    "caption",
    "sender_chat",
    "reply_to_message",
    "edit_date",
    "chat_instance",
    "query",
)
USER_IDS = st.sampled_from([5401, 5402, 5403]) | st.integers(1, 2**40)
CHAT_TYPES = st.sampled_from(["private", "group", "supergroup", "channel", "secret-new-type"])
LANGUAGE_CODES = (
    st.none()
    | st.sampled_from(["en", "ru", "zh-hans", "zh-TW", "xx", "", "-", "zh-", "en_US", "und"])
    | st.text(max_size=12)
)
TEXTS = st.sampled_from(
    [
        "/start",
        "/help",
        "/language",
        "/nope",
        "Help",
        "Language",
        "hi",
        "/start track-",
        "/help@minsheng_bot",
    ]
) | st.text(max_size=60)

leaves = (
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.text(max_size=20)
    | st.floats(allow_nan=False, allow_infinity=False)
)
UNKNOWN_KEYS = st.text(max_size=10).map(lambda key: "x_" + key)
json_values = st.recursive(
    leaves,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(FIELD_NAMES) | st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


@st.composite
def plausible_messages(draw: st.DrawFn) -> dict[str, Any]:
    """A Message that could come from Telegram, today or in a later Bot API version."""
    user_id = draw(USER_IDS)
    kind = draw(CHAT_TYPES)
    chat_id = user_id if kind == "private" else -draw(st.integers(1, 2**40))
    chat: dict[str, Any] = {"id": chat_id, "type": kind, "first_name": "X", "title": "T"}
    text = draw(TEXTS)
    # Fields a later Bot API version may add, with any content.
    message: dict[str, Any] = draw(st.dictionaries(UNKNOWN_KEYS, json_values, max_size=2))
    message.update(message_id=draw(st.integers(1, 2**31)), date=NOW, chat=chat, text=text)
    if draw(st.booleans()) or kind == "private":
        message["from"] = {
            "id": user_id,
            "is_bot": False,
            "first_name": draw(st.text(max_size=20)),
            "language_code": draw(LANGUAGE_CODES),
        }
    if text.startswith("/"):
        message["entities"] = [
            {
                "type": "bot_command",
                "offset": 0,
                "length": len(text.split()[0]) if text.split() else 1,
            }
        ]
    return message


@st.composite
def plausible_updates(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(["message", "edited_message", "channel_post", "callback_query"]))
    message = draw(plausible_messages())
    if kind == "callback_query":
        body: dict[str, Any] = {
            "id": str(draw(st.integers(1, 10**9))),
            "chat_instance": "c",
            "from": message.get("from") or {"id": 5401, "is_bot": False, "first_name": "Q"},
            "data": draw(TEXTS),
        }
        if draw(st.booleans()):
            body["message"] = message
        update: dict[str, Any] = {kind: body}
    else:
        update = {kind: message}
    update.update(draw(st.dictionaries(UNKNOWN_KEYS, json_values, max_size=2)))
    return update


random_updates = st.dictionaries(
    st.sampled_from(UPDATE_KINDS)
    | st.text(min_size=1, max_size=12).filter(lambda k: k != "update_id"),
    json_values,
    min_size=1,
    max_size=2,
)


async def feed(sandbox: Sandbox, db_path: Database, bodies: st.SearchStrategy[Any]) -> None:
    """Inject 50 generated update bodies into one running bot, wait until the inbox has
    handled every one the sandbox delivers, then check the bot still answers /help."""
    injected: list[dict[str, Any]] = []
    async with polling_bot(settings_for(sandbox, db_path), db_path):

        @settings(
            max_examples=50,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        )
        @given(bodies)
        def inject(body: dict[str, Any]) -> None:
            injected.append(sandbox.inject_update(body))

        inject()
        delivered = [u for u in injected if sandbox.world.wanted(u)]
        assert len(delivered) >= 40  # the run really fed the bot
        await wait_inbox_settled(db_path, len(delivered), seconds=30)
        sandbox.send_text(5409, "/help")
        [answer] = await sandbox.wait_for_messages(5409, 1, timeout=10)
        assert HELP_MARKER["en"] in answer["text"]


def assert_none_failed(db_path: Database) -> None:
    failed = failed_rows(db_path)
    assert not failed, "\n".join(
        f"{uid}: {error} <- {payload[:300]}" for uid, error, payload in failed
    )
    assert query(db_path, "SELECT count(*) FROM outbox_message WHERE chat_id < 0") == [(0,)]


async def test_generated_plausible_updates_never_fail(sandbox: Sandbox, db_path: Database) -> None:
    """RELIABILITY row 33, generated: updates Telegram could send, today or in a later Bot
    API version (messages, edits, channel posts and button presses in any chat type, with or
    without a sender, odd language codes and texts, unknown fields and unknown kinds at any
    level), through the real pipeline of one running bot: none is marked `failed`, nothing is
    said in groups or channels, and the bot still answers /help at the end."""
    unknown_kinds = st.dictionaries(UNKNOWN_KEYS, json_values, min_size=1, max_size=2)
    await feed(sandbox, db_path, plausible_updates() | unknown_kinds)
    assert_none_failed(db_path)


async def test_generated_garbage_updates_never_fail(sandbox: Sandbox, db_path: Database) -> None:
    """RELIABILITY row 33, generated: random update bodies (any update kind, known or not,
    holding random nested JSON that python-telegram-bot cannot parse) through the real
    pipeline: each is ignored safely (not `failed`, no apology, nothing said in groups),
    and the bot still answers /help at the end."""
    await feed(sandbox, db_path, random_updates)
    assert_none_failed(db_path)


# -- row 36 -----------------------------------------------------------------------------------


@pytest.mark.sqlite_only(reason="SQLite's single write lock")
async def test_a_second_writer_costs_time_not_messages(
    sandbox: Sandbox, db_path: Database
) -> None:
    """RELIABILITY row 36: while another writer holds the SQLite lock for about 1.5 s (within
    the busy timeout), ten citizens write; every message is answered once the lock goes, no
    inbox row failed and nobody got an apology."""
    users = list(range(5501, 5511))
    sorry = {apology(Catalogs().get(lang)) for lang in ("en", "zh_Hans", "zh_Hant", "ru")}
    async with polling_bot(settings_for(sandbox, db_path), db_path) as runtime:
        sandbox.send_text(5500, "/start")
        await sandbox.wait_for_messages(5500, 1, timeout=10)  # the bot is up
        poller = runtime.poller
        assert poller is not None
        async with other_writer(db_path):
            sent_at = asyncio.get_running_loop().time()
            for user in users:
                sandbox.send_text(user, "/help")
            # The other writer's job lasts until the bot has fetched these updates (and so
            # met the lock when storing them).
            await wait_until(lambda: poller.last_success > sent_at, 15, "a poll after the sends")
            answered_during_lock = sum(len(sandbox.messages(user)) for user in users)
        for user in users:
            await sandbox.wait_for_messages(user, 1, timeout=15)

    # The lock really was in the way: nothing could be stored, so nothing was answered.
    assert answered_during_lock == 0
    for user in users:
        [answer] = texts(sandbox.messages(user))
        assert HELP_MARKER["en"] in answer
        assert answer not in sorry
    assert failed_rows(db_path) == []
    assert inbox_statuses(db_path) == {"done": len(users) + 1}


# -- stopping ---------------------------------------------------------------------------------


async def test_stopping_right_after_replies_never_hangs(
    sandbox: Sandbox, db_path: Database
) -> None:
    """RELIABILITY row 6 (the part this spine owns): a stop asked for right after replies were
    delivered, while the sender is still recording their outcomes, finishes promptly and
    leaves every outcome recorded, session after session."""
    from storage.db import close_database

    for session in range(10):
        runtime = await Runtime.start(settings_for(sandbox, db_path))
        task = asyncio.create_task(runtime.run_polling(handle_signals=False))
        users = [5600 + 20 * session + n for n in range(15)]
        for user in users:
            sandbox.send_text(user, "/start")
        for user in users:
            await sandbox.wait_for_messages(user, 1, timeout=10)
        runtime.stop.set()  # as SIGTERM does, the moment the replies are out
        done, _ = await asyncio.wait([task], timeout=5)
        if not done:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            await close_database()
        assert done, f"session {session}: the runtime did not stop within 5 s"
        task.result()
        statuses = query(
            db_path,
            "SELECT status, count(*) FROM outbox_message "
            "WHERE chat_id BETWEEN ? AND ? GROUP BY status",
            (users[0], users[-1]),
        )
        assert statuses == [("sent", len(users))]
