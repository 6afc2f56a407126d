"""The staff desk the staff tests share: the team, its desk, and pressing buttons as staff."""

from __future__ import annotations

from typing import Any

from bot.sandbox import Sandbox
from tests.databases import Database
from tests.following import Desk, desk
from tests.harness import eventually

ADMIN, SUPERVISOR, HANDLER, CITIZEN = 72_001, 72_002, 72_003, 72_004
DENIED = "Sorry, you may not do that."


def staff_desk(sandbox: Sandbox, db_path: Database) -> Any:
    return desk(sandbox, db_path, MINSHENG_ADMIN_IDS=str(ADMIN))


async def answer_of(sandbox: Sandbox, update: dict[str, Any]) -> str:
    """The text a pressed button was answered with ("" for none)."""
    query_id = update["callback_query"]["id"]
    answers = sandbox.callback_answers
    found = await eventually(lambda: answers.get(query_id), 10, what="the button's answer")
    return str(found.get("text") or "")


async def press(d: Desk, user_id: int, message: dict[str, Any], data: str) -> str:
    return await answer_of(
        d.sandbox, d.sandbox.press_button(user_id, d.staff, message["message_id"], data)
    )


def card_of(d: Desk) -> dict[str, Any]:
    return d.sandbox.messages(d.staff)[-1]


async def edited(d: Desk, message_id: int, before: int) -> dict[str, Any]:
    def current() -> dict[str, Any]:
        return next(m for m in d.sandbox.messages(d.staff) if m["message_id"] == message_id)

    await eventually(lambda: len(current()["edits"]) > before, 10, what="an edit")
    return current()


async def add_team(d: Desk) -> None:
    """The admin adds a supervisor by id (privately) and a handler by reply (in the group)."""
    done = await d.say(ADMIN, f"/staff add {SUPERVISOR} supervisor", 1)
    assert done["text"] == f"Done: • {SUPERVISOR} — supervisor"
    hello = d.sandbox.send_text(HANDLER, "hello, I'm new", chat_id=d.staff)
    d.sandbox.send_text(
        ADMIN,
        "/staff add handler heating-company",
        chat_id=d.staff,
        reply_to_message_id=hello["message"]["message_id"],
    )
    added = await d.sandbox.wait_for_messages(d.staff, 1, timeout=10)
    assert added[-1]["text"] == f"Done: • {HANDLER} — handler — heating-company"
