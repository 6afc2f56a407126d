"""What the tests of following requests share: a running bot, cases filed directly, and ways
to read what a chat received (texts, buttons)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.runtime import Runtime
from bot.sandbox import Sandbox
from storage.cases import CaseView, Location, NewCase, submit_case
from storage.citizens import touch_citizen
from storage.models import CaseKind
from tests.databases import Database
from tests.harness import eventually, query, running_bot, settings_for

OPEN_SENDS = "SELECT id FROM outbox_message WHERE status IN ('pending', 'uncertain') LIMIT 1"


@dataclass
class Desk:
    sandbox: Sandbox
    runtime: Runtime
    db_path: Database

    @property
    def staff(self) -> int:
        return self.sandbox.config.staff_group_id

    async def file_case(
        self,
        citizen_id: int,
        *,
        text: str = "The radiators in our flat have been cold for three days.",
        category: str = "heating.fees",
        at: datetime | None = None,
        photos: tuple[str, ...] = (),
        location: Location | None = None,
        answers: dict[str, Any] | None = None,
        phone: str | None = None,
        notify_staff: bool = False,
    ) -> CaseView:
        """A case as the intake conversation would file it, straight through storage."""
        await touch_citizen(citizen_id, first_name="Li", guessed_language="en")
        settings = self.runtime.services.settings
        new = NewCase(
            citizen_id=citizen_id,
            kind=CaseKind.COMPLAINT,
            category_code=category,
            text=text,
            photos=photos,
            location=location,
            answers=answers or {},
            phone=phone,
            anonymous=phone is None,
        )
        return await submit_case(
            new,
            now=at or datetime.now(UTC),
            zone=settings.zone,
            daily_limit=1000,
            staff_chat_id=self.staff if notify_staff else None,
        )

    async def say(self, user_id: int, text: str, count: int, **extra: Any) -> dict[str, Any]:
        """Send a message and wait until the chat holds `count` bot messages; the last one."""
        self.sandbox.send_text(user_id, text, **extra)
        return (await self.sandbox.wait_for_messages(user_id, count, timeout=10))[-1]

    async def press(
        self, user_id: int, message: dict[str, Any], data: str, count: int
    ) -> dict[str, Any]:
        self.sandbox.press_button(user_id, user_id, message["message_id"], data)
        return (await self.sandbox.wait_for_messages(user_id, count, timeout=10))[-1]

    async def press_edit(self, user_id: int, message: dict[str, Any], data: str) -> dict[str, Any]:
        """Press a button that edits its own message; the message once edited."""

        def current() -> dict[str, Any]:
            return next(
                m
                for m in self.sandbox.messages(user_id)
                if m["message_id"] == message["message_id"]
            )

        before = len(current()["edits"])
        self.sandbox.press_button(user_id, user_id, message["message_id"], data)
        await eventually(lambda: len(current()["edits"]) > before, 10, what="an edit")
        return current()


@contextlib.asynccontextmanager
async def desk(sandbox: Sandbox, db_path: Database, **env: str) -> AsyncIterator[Desk]:
    async with running_bot(settings_for(sandbox, db_path, **env)) as runtime:
        yield Desk(sandbox, runtime, db_path)
        # Stop only once every send is recorded: shutdown cancels the sender's recording loop,
        # and a cancel inside Tortoise's SQLite `in_transaction()` entry leaks its lock, which
        # hangs the shutdown (reported to the runtime's owner).
        await eventually(lambda: not query(db_path, OPEN_SENDS), 20, what="sends recorded")


def buttons(message: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, callback data) of every inline button on a message, row by row."""
    markup = message.get("reply_markup") or {}
    return [
        (button["text"], button.get("callback_data", ""))
        for row in markup.get("inline_keyboard", [])
        for button in row
    ]


def minutes_ago(minutes: int) -> datetime:
    return datetime.now(UTC) - timedelta(minutes=minutes)
