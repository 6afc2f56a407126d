"""The first conversation, end to end: the real runtime polling the sandbox, on a SQLite file.

/start, /help and /language in each language, the localized command menus, and the bad input
of issue 2 (forged and stale buttons, groups, an overlong message, media outside a request).
Texts are checked by a distinctive word of each catalogue, not whole sentences.
"""

from __future__ import annotations

from typing import Any

import pytest

from bot.i18n import Catalogs
from bot.sandbox import Sandbox
from tests.databases import Database
from tests.harness import (
    inbox_statuses,
    polling_bot,
    query,
    settings_for,
    texts,
    wait_inbox_settled,
    wait_until,
)

WELCOME = {"en": "Welcome", "zh_Hans": "欢迎", "zh_Hant": "歡迎", "ru": "Добро пожаловать"}
HELP = {"en": "emergencies", "zh_Hans": "紧急", "zh_Hant": "緊急", "ru": "экстренн"}
ASK = {
    "en": "Which language",
    "zh_Hans": "哪种语言",
    "zh_Hant": "哪種語言",
    "ru": "На каком языке",
}
CONFIRM = {"en": "English", "zh_Hans": "简体中文", "zh_Hant": "繁體中文", "ru": "по-русски"}
MENU = {"en": "main menu", "zh_Hans": "主菜单", "zh_Hant": "主選單", "ru": "главное меню"}
LABELS = {
    "en": ("Help", "Language"),
    "zh_Hans": ("帮助", "语言"),
    "zh_Hant": ("說明", "語言"),
    "ru": ("Помощь", "Язык"),
}
TOO_LONG = {"en": "too long", "zh_Hans": "太长", "zh_Hant": "太長", "ru": "слишком длинное"}
TEXT_ONLY = {
    "en": "only read text",
    "zh_Hans": "只能读取文字",
    "zh_Hant": "只能讀取文字",
    "ru": "только текст",
}


def labels(message: dict[str, Any]) -> set[str]:
    """The labels of a message's reply keyboard (the main menu)."""
    markup = message.get("reply_markup") or {}
    return {button["text"] for row in markup.get("keyboard", []) for button in row}


def inline_data(message: dict[str, Any]) -> list[str]:
    markup = message.get("reply_markup") or {}
    return [b.get("callback_data", "") for row in markup.get("inline_keyboard", []) for b in row]


def in_language(text: str, markers: dict[str, str], language: str) -> bool:
    """The text carries ``language``'s marker and no other language's."""
    others = [m for lang, m in markers.items() if lang != language and m != markers[language]]
    return markers[language] in text and not any(m in text for m in others)


def expired(language: str) -> str:
    return Catalogs().get(language).gettext("This button has expired.")


def citizen(db_path: Database, user_id: int) -> list[tuple[Any, ...]]:
    return query(db_path, "SELECT language, language_chosen FROM citizen WHERE id = ?", (user_id,))


@pytest.mark.parametrize(
    ("language_code", "language", "switch_to"),
    [
        ("en", "en", "ru"),
        ("zh-hans", "zh_Hans", "zh_Hant"),
        ("zh-TW", "zh_Hant", "en"),
        ("zh-hant", "zh_Hant", "zh_Hans"),
        ("ru", "ru", "zh_Hans"),
    ],
)
async def test_polling_carries_the_conversation_in_the_right_language(
    sandbox: Sandbox, db_path: Database, language_code: str, language: str, switch_to: str
) -> None:
    """Issue 2 (polling carries /start to the reply in the right language): the welcome comes
    in the language Telegram reports, with the main menu; /language and a press on another
    language confirm and relabel the menu in the new one, and the choice persists: /help
    then comes in it although language_code still says otherwise."""
    user = 7101
    async with polling_bot(settings_for(sandbox, db_path), db_path):
        sandbox.send_text(user, "/start", language_code=language_code)
        [welcome] = await sandbox.wait_for_messages(user, 1, timeout=10)
        assert in_language(welcome["text"], WELCOME, language), welcome["text"]
        assert set(LABELS[language]) <= labels(welcome)

        sandbox.send_text(user, "/language", language_code=language_code)
        question = (await sandbox.wait_for_messages(user, 2, timeout=10))[1]
        assert in_language(question["text"], ASK, language)
        assert sorted(inline_data(question)) == sorted(
            f"lang:{code}" for code in ("en", "zh_Hans", "zh_Hant", "ru")
        )
        press = sandbox.press_button(user, user, question["message_id"], f"lang:{switch_to}")
        menu = (await sandbox.wait_for_messages(user, 3, timeout=10))[2]
        await wait_until(
            lambda: press["callback_query"]["id"] in sandbox.callback_answers,
            5,
            "the button's answer",
        )
        confirmation = sandbox.messages(user)[1]  # the question, edited in place
        assert in_language(confirmation["text"], CONFIRM, switch_to), confirmation["text"]
        assert in_language(menu["text"], MENU, switch_to), menu["text"]
        assert set(LABELS[switch_to]) <= labels(menu)
        assert not set(LABELS[language]) & labels(menu) - set(LABELS[switch_to])

        sandbox.send_text(user, "/help", language_code=language_code)
        help_ = (await sandbox.wait_for_messages(user, 4, timeout=10))[3]
        assert in_language(help_["text"], HELP, switch_to), help_["text"]

    assert len(sandbox.messages(user)) == 4
    assert citizen(db_path, user) == [(switch_to, 1)]
    assert inbox_statuses(db_path) == {"done": 4}


async def test_command_menus_exist_per_language(sandbox: Sandbox, db_path: Database) -> None:
    """Issue 2: the command menu is localized: setMyCommands for everyone (English) and for
    en, zh and ru, each listing /start, /help and /language described in that language."""
    async with polling_bot(settings_for(sandbox, db_path), db_path):
        await wait_until(
            lambda: {"", "en", "zh", "ru"} <= set(sandbox.commands), 10, "the command menus"
        )
    menus = sandbox.commands
    markers = {"": "Welcome", "en": "Welcome", "zh": "欢迎", "ru": "Приветствие"}
    for code, marker in markers.items():
        listed = {c["command"]: c["description"] for c in menus[code]}
        assert {"start", "help", "language"} <= set(listed), code
        assert marker in listed["start"], (code, listed["start"])
    assert menus[""] == menus["en"]


# -- bad input (issue 2) ------------------------------------------------------------------------

FORGED = ["forged:1", "x" * 100, "语言😀:ru", "lang:xx", "lang:ru\n", "lang:", "LANG:en"]


async def test_forged_buttons_get_the_expired_answer(sandbox: Sandbox, db_path: Database) -> None:
    """Issue 2, RELIABILITY row 24: a forged button (data the bot never sent, longer than
    64 bytes, non-ASCII, a language we do not have, near misses of a real one) gets "this
    button has expired" in the citizen's language, and nothing changes."""
    user = 7201
    async with polling_bot(settings_for(sandbox, db_path), db_path):
        sandbox.send_text(user, "/start", language_code="ru")
        [welcome] = await sandbox.wait_for_messages(user, 1, timeout=10)
        presses = [
            sandbox.press_button(user, user, welcome["message_id"], data) for data in FORGED
        ]
        ids = [p["callback_query"]["id"] for p in presses]
        await wait_until(
            lambda: all(i in sandbox.callback_answers for i in ids), 10, "every button's answer"
        )
        await wait_inbox_settled(db_path, 1 + len(FORGED))

    for query_id in ids:
        assert sandbox.callback_answers[query_id]["text"] == expired("ru")
    assert texts(sandbox.messages(user)) == [welcome["text"]]  # no edit, no new message
    assert citizen(db_path, user) == [("ru", 0)]
    assert inbox_statuses(db_path) == {"done": 1 + len(FORGED)}


async def test_a_stale_language_button_still_works(sandbox: Sandbox, db_path: Database) -> None:
    """Issue 2: a stale button, the language keyboard of an older message pressed after a
    choice was made on a newer one, still works: choosing a language is safe to repeat and
    the data is checked, not the message. The old message becomes the confirmation."""
    user = 7301
    async with polling_bot(settings_for(sandbox, db_path), db_path):
        sandbox.send_text(user, "/language")
        sandbox.send_text(user, "/language")
        old, new = await sandbox.wait_for_messages(user, 2, timeout=10)
        sandbox.press_button(user, user, new["message_id"], "lang:ru")
        await sandbox.wait_for_messages(user, 3, timeout=10)
        sandbox.press_button(user, user, old["message_id"], "lang:zh_Hant")
        messages = await sandbox.wait_for_messages(user, 4, timeout=10)

    by_id = {m["message_id"]: m for m in messages}
    assert in_language(by_id[new["message_id"]]["text"], CONFIRM, "ru")
    assert in_language(by_id[old["message_id"]]["text"], CONFIRM, "zh_Hant")
    assert in_language(messages[-1]["text"], MENU, "zh_Hant")
    assert set(LABELS["zh_Hant"]) <= labels(messages[-1])
    assert citizen(db_path, user) == [("zh_Hant", 1)]
    assert inbox_statuses(db_path) == {"done": 4}


async def test_group_messages_are_not_answered(sandbox: Sandbox, db_path: Database) -> None:
    """Issue 2: a chat type the bot does not serve (a citizen writing in a group the bot is
    in): /start, /help, text and a menu label there are ignored by design, without error."""
    user, group = 7401, -7400001
    async with polling_bot(settings_for(sandbox, db_path), db_path):
        for text in ("/start", "/help", "hello", "Help", "/start@minsheng_bot"):
            sandbox.send_text(user, text, chat_id=group)
        sandbox.send_text(user, "/help")  # the same person in private is served
        await sandbox.wait_for_messages(user, 1, timeout=10)
        await wait_inbox_settled(db_path, 6)

    assert sandbox.messages(group) == []
    assert query(db_path, "SELECT count(*) FROM outbox_message WHERE chat_id = ?", (group,)) == [
        (0,)
    ]
    assert inbox_statuses(db_path) == {"done": 6}


async def test_an_overlong_message_gets_the_length_notice(
    sandbox: Sandbox, db_path: Database
) -> None:
    """Issue 2: a 5,000-character message is answered with the length notice, in the
    citizen's language, and the pointer to the menu."""
    user = 7501
    async with polling_bot(settings_for(sandbox, db_path), db_path):
        sandbox.send_text(user, "路" * 5000, language_code="zh-hans")
        notice, pointer = await sandbox.wait_for_messages(user, 2, timeout=10)

    assert in_language(notice["text"], TOO_LONG, "zh_Hans"), notice["text"]
    assert "5000" in notice["text"]
    assert "4000" in notice["text"]
    assert set(LABELS["zh_Hans"]) <= labels(pointer)
    assert inbox_statuses(db_path) == {"done": 1}


MEDIA: dict[str, dict[str, Any]] = {
    "sticker": {"sticker": {"file_size": 2048}},
    "voice": {"voice": {"file_size": 4096}},
    "document": {"document": {"file_name": "complaint.pdf", "mime_type": "application/pdf"}},
    "location": {"location": {"latitude": 39.9, "longitude": 116.4}},
}


async def test_media_outside_a_request_gets_a_clear_answer(
    sandbox: Sandbox, db_path: Database
) -> None:
    """Issue 2: a sticker, a voice message, a document or a location sent outside a request
    each get a clear answer in the citizen's language (only text is read here), with the
    menu; nothing fails."""
    user = 7601
    async with polling_bot(settings_for(sandbox, db_path), db_path):
        for extra in MEDIA.values():
            sandbox.send_text(user, "", language_code="ru", **extra)
        answers = await sandbox.wait_for_messages(user, len(MEDIA), timeout=10)

    assert len(answers) == len(MEDIA)
    for answer in answers:
        assert in_language(answer["text"], TEXT_ONLY, "ru"), answer["text"]
        assert set(LABELS["ru"]) <= labels(answer)
    assert inbox_statuses(db_path) == {"done": len(MEDIA)}
