"""Notices: what an operation tells someone, written as an outbox row in its transaction.

Storage decides who is told what (a kind and its facts); the text is made when the row is sent,
in the recipient's language, by the notice renderers of the Telegram side.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from storage.outbox import enqueue
from storage.staff_destinations import DEPARTMENT_NOTICES, notice_destination

NOTICE_METHOD = "notice"
# Notices to a group whose buttons act on a case, by the card they are: tagged with the case,
# so that their buttons can be taken away once they no longer apply (storage.stale_buttons).
BUTTON_CARDS = {
    "staff_new_case": "new",  # Accept · Reject (and Merge into N)
    "staff_case_sent_back": "new",  # Accept · Reject again
    "staff_case_routed": "routed",  # Sign for · Send back
    "staff_extension_requested": "extension",  # Grant · Refuse
}


def card_tag(card: str, tracking: str) -> str:
    """The `about` of a group message with buttons of `card` on a case."""
    return f"{card}:{tracking}"


async def notify(
    chat_id: int,
    kind: str,
    params: dict[str, Any],
    *,
    now: datetime,
    dedupe_key: str | None = None,
) -> None:
    """Queue a notice of `kind` for a chat; `params` are plain JSON facts, not text.

    A department's notice to the staff chat goes to its department's place instead
    (storage.staff_destinations): its own chat, or its topic (the payload's "thread").
    """
    payload: dict[str, Any] = {"kind": kind, "params": params}
    if chat_id < 0 and kind in DEPARTMENT_NOTICES:
        place = await notice_destination(chat_id, kind, params)
        chat_id = place.chat_id
        if place.thread_id is not None:
            payload["thread"] = place.thread_id
    card = BUTTON_CARDS.get(kind) if chat_id < 0 and "tracking" in params else None
    await enqueue(
        chat_id,
        NOTICE_METHOD,
        payload,
        now=now,
        dedupe_key=dedupe_key,
        about=card_tag(card, str(params["tracking"])) if card is not None else None,
    )
