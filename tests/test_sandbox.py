"""The sandbox speaks the Bot API well enough for python-telegram-bot's own client."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, InputMediaPhoto, Message
from telegram.error import BadRequest, ChatMigrated, Conflict, Forbidden, RetryAfter, TimedOut

from bot.sandbox import FaultConfig, Sandbox, SandboxConfig

CITIZEN = 1001


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    sandbox = Sandbox(SandboxConfig())
    await sandbox.start()
    yield sandbox
    await sandbox.stop()


@pytest.fixture
async def bot(sandbox: Sandbox) -> AsyncIterator[Bot]:
    async with Bot(
        sandbox.config.token, base_url=sandbox.api_url, base_file_url=sandbox.file_url
    ) as bot:
        yield bot


def keyboard(*data: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(d, callback_data=d) for d in data]])


async def test_get_me_is_the_bot(bot: Bot, sandbox: Sandbox) -> None:
    me = await bot.get_me()
    assert (me.id, me.is_bot, me.username) == (sandbox.config.bot_user_id, True, "minsheng_bot")


async def test_send_and_edit_are_recorded(bot: Bot, sandbox: Sandbox) -> None:
    sent = await bot.send_message(
        CITIZEN,
        "<b>Case</b> A-1 &amp; more",
        parse_mode="HTML",
        reply_markup=keyboard("yes", "no"),
    )
    assert sent.text == "Case A-1 & more"
    assert sent.entities[0].type == "bold"
    assert sent.reply_markup == keyboard("yes", "no")
    assert sent.chat.type == "private"

    edited = await bot.edit_message_text("Done", chat_id=CITIZEN, message_id=sent.message_id)
    assert isinstance(edited, Message)
    assert edited.text == "Done"
    assert edited.reply_markup is None  # an edit without markup removes the keyboard
    with pytest.raises(BadRequest, match=r"(?i)not modified"):
        await bot.edit_message_text("Done", chat_id=CITIZEN, message_id=sent.message_id)
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await bot.edit_message_text("x", chat_id=CITIZEN, message_id=9999)

    [record] = sandbox.messages(CITIZEN)
    assert record["text"] == "Done"
    assert record["edits"] == ["Case A-1 & more"]
    assert record["parse_mode"] is None
    assert await bot.delete_message(CITIZEN, sent.message_id)
    assert sandbox.messages(CITIZEN)[0]["deleted"]


async def test_bad_requests_are_refused_like_telegram(bot: Bot, sandbox: Sandbox) -> None:
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await bot.send_message(CITIZEN, "x" * 4097)
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
        await bot.send_message(CITIZEN, "<b>open", parse_mode="HTML")
    with pytest.raises(BadRequest, match=r"(?i)BUTTON_DATA_INVALID"):
        await bot.send_message(CITIZEN, "x", reply_markup=keyboard("d" * 65))
    assert sandbox.messages(CITIZEN) == []


async def test_button_press_and_callback_answer(bot: Bot, sandbox: Sandbox) -> None:
    sent = await bot.send_message(CITIZEN, "Rate us", reply_markup=keyboard("rate:5"))
    sandbox.press_button(CITIZEN, CITIZEN, sent.message_id, "rate:5")
    [update] = await bot.get_updates()
    query = update.callback_query
    assert query is not None
    assert query.data == "rate:5"
    assert query.message is not None
    assert query.message.message_id == sent.message_id
    assert await bot.answer_callback_query(query.id, text="Thanks")
    assert sandbox.callback_answers[query.id]["text"] == "Thanks"
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await bot.answer_callback_query(query.id)


async def test_get_updates_offset_confirms(bot: Bot, sandbox: Sandbox) -> None:
    for text in ("/start", "one", "two"):
        sandbox.send_text(CITIZEN, text)
    updates = await bot.get_updates(limit=2)
    assert [u.message.text for u in updates if u.message] == ["/start", "one"]
    assert updates[0].message is not None
    assert updates[0].message.entities[0].type == "bot_command"
    again = await bot.get_updates(offset=updates[0].update_id + 1)
    assert [u.message.text for u in again if u.message] == ["one", "two"]
    assert await bot.get_updates(offset=again[-1].update_id + 1) == ()
    assert len(sandbox.world.pending) == 0


async def test_long_poll_wakes_when_an_update_arrives(bot: Bot, sandbox: Sandbox) -> None:
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.1)
    sandbox.send_text(CITIZEN, "hello")
    updates = await asyncio.wait_for(poll, 1)
    assert updates[0].message is not None
    assert updates[0].message.text == "hello"


async def test_second_poller_terminates_the_first(bot: Bot, sandbox: Sandbox) -> None:
    first = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.1)
    async with Bot(sandbox.config.token, base_url=sandbox.api_url) as second_instance:
        assert await second_instance.get_updates(timeout=0) == ()
    with pytest.raises(Conflict, match=r"(?i)terminated by other getUpdates"):
        await asyncio.wait_for(first, 1)


async def test_webhook_delivery_retries_and_sends_secret(bot: Bot, sandbox: Sandbox) -> None:
    received: list[tuple[str | None, int]] = []
    attempts = 0

    async def hook(request: web.Request) -> web.Response:
        nonlocal attempts
        attempts += 1
        if attempts == 1:
            return web.Response(status=500)  # the first try fails and is repeated
        body = await request.json()
        received.append(
            (request.headers.get("X-Telegram-Bot-Api-Secret-Token"), body["update_id"])
        )
        return web.Response()

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        first = sandbox.send_text(CITIZEN, "one")
        assert await bot.set_webhook(f"http://127.0.0.1:{port}/hook", secret_token="s3cret")
        second = sandbox.send_text(CITIZEN, "two")
        for _ in range(100):
            if len(received) == 2:
                break
            await asyncio.sleep(0.05)
        assert received == [("s3cret", first["update_id"]), ("s3cret", second["update_id"])]
        assert sandbox.stats["webhook_deliveries"] == 2
        info = await bot.get_webhook_info()
        assert info.url.endswith("/hook")
        assert info.pending_update_count == 0
        with pytest.raises(Conflict, match=r"(?i)webhook is active"):
            await bot.get_updates()
        assert await bot.delete_webhook()
        assert await bot.get_updates() == ()
    finally:
        await sandbox.api.close()
        await runner.cleanup()


async def test_injected_faults_map_to_ptb_errors(
    bot: Bot, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "1")
    sandbox.faults = FaultConfig(rate=1.0, kinds=("429",), retry_after=3, seed=1)
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(CITIZEN, "hi")
    assert caught.value.retry_after == dt.timedelta(seconds=3)
    assert await bot.get_me()  # identity calls are never faulted
    assert sandbox.stats["faults_injected"] == 1
    assert sandbox.messages(CITIZEN) == []

    sandbox.faults = FaultConfig(
        blocked_users={CITIZEN}, deactivated_users={1002}, migrated_chats={-5: -1005}
    )
    with pytest.raises(Forbidden, match=r"(?i)bot was blocked by the user"):
        await bot.send_message(CITIZEN, "hi")
    with pytest.raises(Forbidden, match=r"(?i)user is deactivated"):
        await bot.send_message(1002, "hi")
    with pytest.raises(ChatMigrated) as migrated:
        await bot.send_message(-5, "hi")
    assert migrated.value.new_chat_id == -1005


async def test_timeout_fault_delivers_but_loses_the_answer(bot: Bot, sandbox: Sandbox) -> None:
    sandbox.faults = FaultConfig(rate=1.0, kinds=("timeout",), timeout_seconds=2)
    with pytest.raises(TimedOut):
        await bot.send_message(CITIZEN, "hi", read_timeout=0.2)
    assert [m["text"] for m in sandbox.messages(CITIZEN)] == ["hi"]


async def test_photos_files_and_albums(bot: Bot, sandbox: Sandbox) -> None:
    photo = await bot.send_photo(CITIZEN, b"\x89PNG fake bytes", caption="Your photo")
    assert photo.caption == "Your photo"
    file = await photo.photo[-1].get_file()
    assert bytes(await file.download_as_bytearray()) == b"\x89PNG fake bytes"
    album = await bot.send_media_group(
        CITIZEN, [InputMediaPhoto(photo.photo[-1].file_id), InputMediaPhoto(b"second")]
    )
    assert len(album) == 2
    assert album[0].media_group_id == album[1].media_group_id
    location = await bot.send_location(CITIZEN, 31.2304, 121.4737)
    assert location.location is not None
    assert location.location.latitude == 31.2304
    assert await bot.send_chat_action(CITIZEN, "typing")
    methods = [m["method"] for m in sandbox.messages(CITIZEN)]
    assert methods == ["sendPhoto", "sendMediaGroup", "sendMediaGroup", "sendLocation"]


async def test_commands_are_kept_per_language(bot: Bot, sandbox: Sandbox) -> None:
    assert await bot.set_my_commands([("start", "Start"), ("track", "Track a case")])
    assert await bot.set_my_commands([("start", "开始")], language_code="zh-hans")
    assert [c.command for c in await bot.get_my_commands()] == ["start", "track"]
    assert [c.description for c in await bot.get_my_commands(language_code="zh-hans")] == ["开始"]
    assert set(sandbox.commands) == {"", "zh-hans"}
