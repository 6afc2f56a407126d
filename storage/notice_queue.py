"""Notices: what an operation tells someone, written as an outbox row in its transaction.

Storage decides who is told what (a kind and its facts); the text is made when the row is sent,
in the recipient's language, by the notice renderers of the Telegram side.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from storage.outbox import enqueue

NOTICE_METHOD = "notice"


async def notify(
    chat_id: int,
    kind: str,
    params: dict[str, Any],
    *,
    now: datetime,
    dedupe_key: str | None = None,
) -> None:
    """Queue a notice of `kind` for a chat; `params` are plain JSON facts, not text."""
    await enqueue(
        chat_id,
        NOTICE_METHOD,
        {"kind": kind, "params": params},
        now=now,
        dedupe_key=dedupe_key,
    )
