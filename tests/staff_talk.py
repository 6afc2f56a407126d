"""Staff speaking to the bot and awaiting its answer, for the staff lifecycle tests."""

from __future__ import annotations

from tests.following import Desk


async def staff_says(d: Desk, user_id: int, text: str) -> str:
    count = len(d.sandbox.messages(user_id))
    return str((await d.say(user_id, text, count + 1)).get("text") or "")
