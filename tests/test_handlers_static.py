"""Which handler each kind of update reaches, checked on the real Application without network."""

from __future__ import annotations

import ast
import asyncio
import inspect
import json
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st
from telegram import Update
from telegram.ext import Application, BaseHandler, CommandHandler, ContextTypes
from telegram.request import BaseRequest

from bot.context import MinshengApp, MinshengContext
from bot.i18n import COMMAND_MENU_CODES, Catalogs
from bot.settings import LANGUAGES
from handlers import STAFF_COMMANDS, command_menus, register
from handlers import steps as steps_module
from handlers.buttons import on_expired_button
from handlers.fallback import COMMAND_ECHO_LIMIT, command_of, on_unknown_command
from handlers.flood import GATE_GROUP
from handlers.help import on_help
from handlers.intake import on_new_request
from handlers.language import LANGUAGE_NAMES, choice_data, on_choice, on_language, parse_choice
from handlers.menu import main_menu
from handlers.my_requests import on_my_requests
from handlers.routing import Routed, registered
from handlers.staff_menu import DESCRIPTIONS
from handlers.start import on_start
from handlers.steps import STEP_HANDLERS, route_step
from handlers.tracking import on_track_button
from storage.drafts import Step

BOT = {"id": 1, "is_bot": True, "first_name": "Minsheng", "username": "minsheng_bot"}
USER = {"id": 42, "is_bot": False, "first_name": "Li", "language_code": "zh-hans"}
PRIVATE = {"id": 42, "type": "private", "first_name": "Li"}
GROUP = {"id": -1001, "type": "supergroup", "title": "Staff"}
SMALL_GROUP = {"id": -5, "type": "group", "title": "Neighbours"}
CHANNEL = {"id": -1002, "type": "channel", "title": "City news"}
FILE = {"file_id": "f", "file_unique_id": "u"}

NOT_TEXT: dict[str, Any] = {
    "sticker": {
        **FILE,
        "type": "regular",
        "width": 512,
        "height": 512,
        "is_animated": False,
        "is_video": False,
    },
    "voice": {**FILE, "duration": 3},
    "video": {**FILE, "width": 640, "height": 480, "duration": 3},
    "video_note": {**FILE, "length": 240, "duration": 3},
    "document": FILE,
    "animation": {**FILE, "width": 320, "height": 240, "duration": 2},
    "photo": [{**FILE, "width": 90, "height": 90}],
    "poll": {
        "id": "p",
        "question": "?",
        "options": [{"text": "a", "voter_count": 0, "persistent_id": "a"}],
        "total_voter_count": 0,
        "is_closed": False,
        "is_anonymous": True,
        "type": "regular",
        "allows_multiple_answers": False,
        "allows_revoting": False,
        "members_only": False,
    },
    "dice": {"emoji": "🎲", "value": 3},
    "contact": {"phone_number": "+86 10 12345", "first_name": "Li"},
    "location": {"latitude": 39.9, "longitude": 116.4},
}

MENU_LABELS = {"Help": on_help, "帮助": on_help, "說明": on_help, "Помощь": on_help}
MENU_LABELS |= {"Language": on_language, "语言": on_language, "語言": on_language}
MENU_LABELS |= {"Язык": on_language}

TEXTS: dict[str, Callable[..., Any]] = {
    "/start": on_start,
    "/start case-ABC": on_start,
    "/help": on_help,
    "/language": on_language,
    "/frobnicate now": on_unknown_command,
    "/HELP": on_help,  # python-telegram-bot compares commands case-insensitively
    "/start@minsheng_bot": on_start,
    "/start@another_bot": on_unknown_command,  # a private chat has no other bot
    "hello": route_step,  # text goes to the citizen's step, or to on_text without one
    "help": route_step,
    "x" * 5000: route_step,
    **MENU_LABELS,
}


class OnlyGetMe(BaseRequest):
    """Answers getMe (command handlers need the bot's username); any other call fails."""

    @property
    def read_timeout(self) -> float | None:
        return 1.0

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    async def do_request(
        self, url: str, method: str, *args: Any, **kwargs: Any
    ) -> tuple[int, bytes]:
        assert url.endswith("/getMe"), f"no network in these tests: {method} {url}"
        return 200, json.dumps({"ok": True, "result": BOT}).encode()


@pytest.fixture(scope="module")
def app() -> Iterator[MinshengApp]:
    application: MinshengApp = (
        Application.builder()
        .token("1:x")
        .context_types(ContextTypes(context=MinshengContext))
        .updater(None)
        .request(OnlyGetMe())
        .get_updates_request(OnlyGetMe())
        .build()
    )
    register(application)
    asyncio.run(application.bot.initialize())
    yield application
    asyncio.run(application.bot.shutdown())


def content(text: str) -> dict[str, Any]:
    if not text.startswith("/"):
        return {"text": text}
    command = {"type": "bot_command", "offset": 0, "length": len(text.split()[0])}
    return {"text": text, "entities": [command]}


def message(chat: dict[str, Any], body: dict[str, Any], **extra: Any) -> dict[str, Any]:
    sender = {} if chat["type"] == "channel" else {"from": USER}
    return {"message_id": 7, "date": 1_700_000_000, "chat": chat, **sender, **body, **extra}


def update(app: MinshengApp, **fields: Any) -> Update:
    parsed = Update.de_json({"update_id": 1000, **fields}, app.bot)
    assert parsed is not None
    return parsed


def handlers(app: MinshengApp) -> Iterator[BaseHandler[Any, Any, Any]]:
    return registered(app)


def matches(app: MinshengApp, upd: Update) -> list[Callable[..., Any]]:
    """The callbacks that would run, one per group: the first match of each (a Routed group
    asked as it is, through its routes)."""
    found = []
    for group in sorted(app.handlers):
        if group == GATE_GROUP:
            continue  # the citizen gate sees every update and answers none (test_flood.py)
        for handler in app.handlers[group]:
            check = handler.check_update(upd)
            if check is None or check is False:
                continue
            if isinstance(handler, Routed):
                handler = check[0]
            found.append(inspect.unwrap(handler.callback))  # guarded() wraps some
            break
    return found


def asked_one_by_one(app: MinshengApp, upd: Update) -> list[Callable[..., Any]]:
    """The same, each group's every handler asked in turn, as without Routed."""
    found = []
    for group in sorted(app.handlers):
        if group == GATE_GROUP:
            continue
        inside = [
            inner
            for handler in app.handlers[group]
            for inner in (handler.handlers if isinstance(handler, Routed) else [handler])
        ]
        for handler in inside:
            check = handler.check_update(upd)
            if not (check is None or check is False):
                found.append(inspect.unwrap(handler.callback))
                break
    return found


def bodies() -> Iterator[dict[str, Any]]:
    yield from (content(text) for text in TEXTS)
    yield from ({kind: value} for kind, value in NOT_TEXT.items())


@pytest.mark.parametrize(("text", "callback"), TEXTS.items(), ids=lambda v: str(v)[:20])
def test_new_private_text_reaches_its_handler(
    app: MinshengApp, text: str, callback: Callable[..., Any]
) -> None:
    assert matches(app, update(app, message=message(PRIVATE, content(text)))) == [callback]


@pytest.mark.parametrize("kind", NOT_TEXT)
def test_what_is_not_text_gets_the_menu_pointer(app: MinshengApp, kind: str) -> None:
    upd = update(app, message=message(PRIVATE, {kind: NOT_TEXT[kind]}))
    assert matches(app, upd) == [route_step]  # the step, or on_not_text without one


def test_every_command_handler_takes_new_messages_only(app: MinshengApp) -> None:
    command_handlers = [h for h in handlers(app) if isinstance(h, CommandHandler)]
    assert command_handlers
    for handler in command_handlers:
        for command in handler.commands:
            edited = message(PRIVATE, content(f"/{command}"), edit_date=1_700_000_100)
            assert not handler.check_update(update(app, edited_message=edited)), command


def test_edited_messages_match_nothing(app: MinshengApp) -> None:
    for body in bodies():
        edited = message(PRIVATE, body, edit_date=1_700_000_100)
        assert matches(app, update(app, edited_message=edited)) == [], body


@pytest.mark.parametrize("chat", [GROUP, SMALL_GROUP], ids=["supergroup", "group"])
def test_group_messages_match_nothing(app: MinshengApp, chat: dict[str, Any]) -> None:
    for body in bodies():
        assert matches(app, update(app, message=message(chat, body))) == [], body


def test_channels_and_userless_updates_match_nothing(app: MinshengApp) -> None:
    for body in bodies():
        post = message(CHANNEL, body, sender_chat=CHANNEL)
        assert matches(app, update(app, channel_post=post)) == [], body
        assert matches(app, update(app, edited_channel_post=post)) == [], body
    assert matches(app, update(app, poll=NOT_TEXT["poll"])) == []
    member = {"user": USER, "status": "kicked", "until_date": 0}
    left = {
        "chat": PRIVATE,
        "from": USER,
        "date": 1_700_000_000,
        "old_chat_member": {"user": USER, "status": "member"},
        "new_chat_member": member,
    }
    assert matches(app, update(app, my_chat_member=left)) == []


OTHER_FEATURES = re.compile(r"(forget|rt|st|sr|in|my|case|add):")


def button(app: MinshengApp, **query: Any) -> Update:
    body = {"id": "q", "from": USER, "chat_instance": "c", **query}
    return update(app, callback_query={"message": message(PRIVATE, content("…")), **body})


@pytest.mark.parametrize("language", LANGUAGES)
def test_language_buttons_reach_the_choice(app: MinshengApp, language: str) -> None:
    assert parse_choice(choice_data(language)) == language
    assert matches(app, button(app, data=choice_data(language))) == [on_choice]


@given(st.text() | st.binary().map(lambda b: b.decode("latin-1")))
@example("lang:en\n")
@example("lang:EN")
@example("lang:xx")
@example("lang:")
@example("lang:en:1")
@example(" lang:ru")
@example("lang:zh_Hans\x00")
@example("")
def test_forged_button_data_is_expired(app: MinshengApp, data: str) -> None:
    # Other features' own button data (forget:no, rt:…) is theirs to check, in their tests.
    assume(not OTHER_FEATURES.match(data))
    expected = on_choice if parse_choice(data) in LANGUAGES else on_expired_button
    assert matches(app, button(app, data=data)) == [expected]
    if expected is on_choice:
        assert re.fullmatch(r"lang:(en|zh_Hans|zh_Hant|ru)", data)


def test_buttons_without_data_are_expired(app: MinshengApp) -> None:
    assert matches(app, button(app)) == [on_expired_button]
    assert matches(app, button(app, game_short_name="g")) == [on_expired_button]


def test_every_main_menu_button_works_in_every_language(app: MinshengApp) -> None:
    catalogs = Catalogs()
    routed = set()
    for language in LANGUAGES:
        for row in main_menu(catalogs.get(language)).keyboard:
            for key in row:
                found = matches(app, update(app, message=message(PRIVATE, content(key.text))))
                assert len(found) == 1, (language, key.text)
                routed.add(found[0])
    assert routed == {on_new_request, on_my_requests, on_track_button, on_help, on_language}


def test_callbacks_have_one_line_docstrings(app: MinshengApp) -> None:
    for handler in handlers(app):
        doc = (handler.callback.__doc__ or "").strip()
        assert doc, handler.callback
        assert "\n" not in doc, handler.callback
    for callback in app.error_handlers:
        assert callback.__doc__


def test_command_menus_list_the_registered_commands(app: MinshengApp) -> None:
    registered = {c for h in handlers(app) if isinstance(h, CommandHandler) for c in h.commands}
    registered -= set(STAFF_COMMANDS)  # staff commands are not offered to citizens
    menus = command_menus(Catalogs())
    assert set(menus) == {"", *COMMAND_MENU_CODES.values()}
    for menu in menus.values():
        assert {name for name, _ in menu} == registered
        for name, description in menu:
            assert re.fullmatch(r"[a-z0-9_]{1,32}", name)
            assert 3 <= len(description) <= 256
    assert menus["zh"] != menus["en"] != menus["ru"]


def test_language_names_cover_every_language() -> None:
    assert list(LANGUAGE_NAMES) == list(LANGUAGES)


def test_unknown_command_is_echoed_short(app: MinshengApp) -> None:
    long_command = "/" + "a" * 500
    upd = update(app, message=message(PRIVATE, content(long_command + " and more")))
    assert upd.message is not None
    echoed = command_of(upd.message)
    assert len(echoed) <= COMMAND_ECHO_LIMIT
    assert echoed.startswith("/aaa")
    short = update(app, message=message(PRIVATE, content("/frobnicate now")))
    assert short.message is not None
    assert command_of(short.message) == "/frobnicate"


def test_every_step_has_exactly_one_handler() -> None:
    assert set(STEP_HANDLERS) == set(Step)
    # A key written twice in the registry's literal would silently keep the last one.
    tree = ast.parse(inspect.getsource(steps_module))
    registry = next(
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.AnnAssign)
        and isinstance(node.target, ast.Name)
        and node.target.id == "STEP_HANDLERS"
    )
    assert isinstance(registry, ast.Dict)
    keys = [ast.unparse(key) for key in registry.keys if key is not None]
    assert sorted(keys) == sorted(f"Step.{step.name}" for step in Step)


def test_the_staff_menu_lists_exactly_the_registered_staff_commands() -> None:
    assert list(DESCRIPTIONS) == list(dict.fromkeys(DESCRIPTIONS))
    assert set(DESCRIPTIONS) == set(STAFF_COMMANDS)


def every_kind_of_update(app: MinshengApp) -> Iterator[Update]:
    """Messages, commands (every registered one, known or not to the sender, with the bot's
    name or another's), edits, group and channel posts, and buttons of every feature."""
    commands = sorted(
        {c for h in handlers(app) if isinstance(h, CommandHandler) for c in h.commands}
    )
    texts = [*TEXTS, *(f"/{c}" for c in commands), *(f"/{c.upper()} 1" for c in commands)]
    texts += [f"/{c}@another_bot" for c in commands[:5]] + ["/", "/ x", "//help"]
    for chat in (PRIVATE, GROUP, SMALL_GROUP):
        for body in [*(content(text) for text in texts), *({k: v} for k, v in NOT_TEXT.items())]:
            yield update(app, message=message(chat, body))
            yield update(app, edited_message=message(chat, body, edit_date=1_700_000_100))
            reply = {"reply_to_message": message(chat, content("earlier"))}
            yield update(app, message=message(chat, body, **reply))
    for body in (content("/help"), content("news")):
        yield update(app, channel_post=message(CHANNEL, body, sender_chat=CHANNEL))
    data = ["", "lang:en", "lang:xx", "in:k:complaint", "in:submit", "case:ABCDEFGHJK", "x"]
    data += [f"{prefix}:1" for prefix in ("forget", "rt", "st", "sr", "in", "my", "add", "kq")]
    for value in data:
        yield button(app, data=value)
        # a button under a message that opens with a command
        body = {"id": "q", "from": USER, "chat_instance": "c", "data": value}
        yield update(app, callback_query={"message": message(PRIVATE, content("/help")), **body})
    yield button(app)


def test_routed_handlers_answer_as_when_each_is_asked_in_turn(app: MinshengApp) -> None:
    asked = 0
    for upd in every_kind_of_update(app):
        assert matches(app, upd) == asked_one_by_one(app, upd), upd.to_dict()
        asked += 1
    assert asked > 1000
