"""Messages in the staff group as Telegram sends them, for the staff tests."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tests.following import Desk


def group_message(
    d: Desk,
    sender: dict[str, Any],
    sender_chat: dict[str, Any],
    text: str,
    reply_to: dict[str, Any] | None = None,
) -> None:
    group = d.sandbox.world.chat(d.staff)
    message: dict[str, Any] = {
        "message_id": d.sandbox.world.new_message_id(),
        "from": sender,
        "sender_chat": sender_chat,
        "chat": group,
        "date": int(datetime.now(UTC).timestamp()),
        "text": text,
    }
    if text.startswith("/"):
        message["entities"] = [
            {"type": "bot_command", "offset": 0, "length": len(text.split()[0])}
        ]
    if reply_to is not None:
        message["reply_to_message"] = reply_to
    d.sandbox.world.record_user_message(message)
    d.sandbox.inject_update({"message": message})
