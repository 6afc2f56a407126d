"""JSON columns keep what only a forged update holds: a lone UTF-16 surrogate and an integer
past 64 bits. orjson, which writes and reads the columns, refuses both; the standard module then
writes them escaped, as every earlier version did, and reads them back, through plain SQL and
through Tortoise's fields alike."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from storage.drafts import Step, current_draft, set_draft
from storage.inbox import IncomingUpdate, pending_updates, store_updates
from storage.models import Draft
from storage.sql import from_json, to_json
from tests.databases import ON_POSTGRES

HALF = "half a pair: \ud83d, then 中文"  # a high surrogate with no low one after it
BIG = 2**70 + 1  # past 64 bits, and no float holds it exactly
ODD = {"text": HALF, "big": BIG, 7: "a key that is a number"}


def test_what_orjson_refuses_is_written_escaped_and_read_back() -> None:
    text = to_json(ODD)
    assert "\\ud83d" in text  # escaped: the text itself is valid UTF-8
    assert from_json(text) == {"text": HALF, "big": BIG, "7": "a key that is a number"}
    plain = to_json({"text": "中文", 7: 1})
    assert plain == '{"text":"中文","7":1}'  # orjson's: compact, UTF-8, keys as text
    assert from_json(plain) == {"text": "中文", "7": 1}
    # Without a surrogate beside it, orjson reads a big integer, as a float (it is no id).
    assert from_json(to_json({"big": BIG})) == {"big": float(BIG)}


async def test_a_forged_update_and_a_draft_keep_a_lone_surrogate(db: None) -> None:
    if ON_POSTGRES:
        pytest.skip("PostgreSQL's jsonb refuses a lone surrogate, whichever module writes it")
    now = datetime.now(UTC)
    message = {"message_id": 1, "date": 0, "chat": {"id": 501, "type": "private"}, "text": HALF}
    payload = {"update_id": 7, "message": message, "big": BIG}
    await store_updates([IncomingUpdate(update_id=7, chat_key=501, payload=payload)], now=now)
    (pending,) = await pending_updates(10)
    assert pending.payload == payload
    await set_draft(501, Step.DESCRIPTION, {"description": HALF}, now=now)
    draft = await current_draft(501)
    assert draft is not None
    assert draft.data == {"description": HALF}
    assert (await Draft.get(citizen_id=501)).data == {"description": HALF}  # Tortoise's read
    row = await Draft.get(citizen_id=501)
    row.data = {"description": HALF, "more": BIG}
    await row.save()  # Tortoise's write
    assert (await Draft.get(citizen_id=501)).data == {"description": HALF, "more": BIG}
