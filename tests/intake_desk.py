"""A citizen filing a request through the bot, and the intake's buttons, for the intake tests."""

from __future__ import annotations

import contextlib
import itertools
import json
from collections.abc import AsyncIterator
from typing import Any

from bot.clock import Clock
from bot.i18n import Catalogs, Translator
from bot.runtime import Runtime
from bot.sandbox import Sandbox
from tests.databases import Database
from tests.harness import query, running_bot, settings_for, wait_until

CATALOGS = Catalogs()
LANGUAGE_CODES = {"en": "en", "zh_Hans": "zh-hans", "zh_Hant": "zh-hant", "ru": "ru"}
_files = itertools.count(1)


def intake_settings(sandbox: Sandbox, db_path: Database, **extra: str) -> Any:
    # A conversation is many messages in a few seconds: keep the flood gate out of the way.
    return settings_for(sandbox, db_path, MINSHENG_FLOOD_MESSAGES="10000", **extra)


@contextlib.asynccontextmanager
async def intake_bot(
    sandbox: Sandbox, db_path: Database, clock: Clock | None = None, **extra: str
) -> AsyncIterator[Runtime]:
    """The real runtime in this process (as tests.harness.running_bot), optionally on `clock`."""
    async with running_bot(intake_settings(sandbox, db_path, **extra), clock) as runtime:
        yield runtime


class Citizen:
    """One user in a private chat with the bot; every action waits until the bot is quiet."""

    def __init__(self, sandbox: Sandbox, db_path: Database, user_id: int, language: str) -> None:
        self.sandbox, self.db, self.id, self.language = sandbox, db_path, user_id, language
        self.t: Translator = CATALOGS.get(language)
        self.seen = 0  # bot messages already read by `new()`

    def _push(self, **body: Any) -> dict[str, Any]:
        return self.sandbox.send_text(
            self.id,
            body.pop("text", ""),
            language_code=LANGUAGE_CODES[self.language],
            first_name="Citizen",
            **body,
        )

    async def settle(self) -> None:
        """Wait until every update is handled and every answer sent."""

        def quiet() -> bool:
            inbox = query(self.db, "SELECT count(*) FROM inbox_update WHERE status = 'pending'")
            outbox = query(
                self.db,
                "SELECT count(*) FROM outbox_message WHERE status IN ('pending', 'uncertain')",
            )
            return inbox[0][0] == 0 and outbox[0][0] == 0 and not self.sandbox.world.pending

        await wait_until(lambda: self.db.exists() and quiet(), 20, "a quiet bot")

    async def send(self, **body: Any) -> list[dict[str, Any]]:
        update = self._push(**body)
        await self.settle()
        self.last_update = update
        return self.new()

    async def say(self, text: str) -> list[dict[str, Any]]:
        return await self.send(text=text)

    async def photo(self, caption: str = "", album: str | None = None) -> list[dict[str, Any]]:
        body: dict[str, Any] = {"photo": {"file_id": f"photo-{self.id}-{next(_files)}"}}
        if caption:
            body["caption"] = caption
        if album:
            body["media_group_id"] = album
        return await self.send(**body)

    def new(self) -> list[dict[str, Any]]:
        messages = self.sandbox.messages(self.id)
        fresh, self.seen = messages[self.seen :], len(messages)
        return fresh

    def button_message(self, data: str) -> dict[str, Any]:
        for message in reversed(self.sandbox.messages(self.id)):
            if data in button_data(message):
                return message
        raise AssertionError(f"no message with button {data!r}")

    async def press(self, data: str, *, message_id: int | None = None) -> list[dict[str, Any]]:
        if message_id is None:
            message_id = self.button_message(data)["message_id"]
        update = self.sandbox.press_button(self.id, self.id, message_id, data, force=True)
        await self.settle()
        self.last_answer = self.sandbox.callback_answers.get(update["callback_query"]["id"], {})
        return self.new()

    async def press_label(self, label: str) -> list[dict[str, Any]]:
        for message in reversed(self.sandbox.messages(self.id)):
            for text, data in buttons(message):
                if text == label:
                    return await self.press(data, message_id=message["message_id"])
        raise AssertionError(f"no button labelled {label!r}")

    def draft(self) -> tuple[str, dict[str, Any]] | None:
        rows = query(self.db, "SELECT step, data FROM draft WHERE citizen_id = ?", (self.id,))
        return (rows[0][0], json.loads(rows[0][1])) if rows else None

    def step(self) -> str | None:
        draft = self.draft()
        return draft[0] if draft else None


def buttons(message: dict[str, Any]) -> list[tuple[str, str]]:
    markup = message.get("reply_markup") or {}
    rows = markup.get("inline_keyboard") or []
    return [(b["text"], b.get("callback_data", "")) for row in rows for b in row]


def button_data(message: dict[str, Any]) -> list[str]:
    return [data for _, data in buttons(message)]


def reply_keys(message: dict[str, Any]) -> list[dict[str, Any]]:
    markup = message.get("reply_markup") or {}
    return [
        key if isinstance(key, dict) else {"text": key}
        for row in markup.get("keyboard") or []
        for key in row
    ]


def texts_of(messages: list[dict[str, Any]]) -> str:
    return "\n".join(m.get("text") or "" for m in messages)


def category_ids(db_path: Database) -> dict[str, int]:
    return dict(query(db_path, "SELECT code, id FROM category"))


async def fill_to_description(c: Citizen, kind: str, domain: str, cat: str) -> None:
    """New request → kind → domain → category (no questions asked by these categories)."""
    ids = category_ids(c.db)
    await c.say(c.t.gettext("New request"))
    await c.press(f"in:k:{kind}")
    await c.press(f"in:d:{ids[domain]}")
    await c.press(f"in:c:{ids[cat]}")
