"""Updates as Telegram posts them to the webhook, and the inbox they land in, for webhook tests."""

from __future__ import annotations

import time
from typing import Any

from tests.databases import Database
from tests.harness import (
    query,
)

SECRET = "s3cret-Token_for-tests"
HEADER = "X-Telegram-Bot-Api-Secret-Token"


def private_update(
    update_id: int, user_id: int, text: str, language_code: str = "en"
) -> dict[str, Any]:
    """A private message as Telegram posts it to a webhook."""
    user = {
        "id": user_id,
        "is_bot": False,
        "first_name": f"User {user_id}",
        "language_code": language_code,
    }
    message: dict[str, Any] = {
        "message_id": update_id,
        "from": user,
        "date": int(time.time()),
        "text": text,
        "chat": {"id": user_id, "type": "private", "first_name": user["first_name"]},
    }
    if text.startswith("/"):
        message["entities"] = [
            {"type": "bot_command", "offset": 0, "length": len(text.split()[0])}
        ]
    return {"update_id": update_id, "message": message}


def inbox_ids(db_path: Database) -> list[int]:
    return [row[0] for row in query(db_path, "SELECT update_id FROM inbox_update ORDER BY id")]
