"""The outbox: every call to the Bot API that a committed change wants made.

Rows are written in the same transaction as the change that causes them; the sender reads them,
calls Telegram, and records the outcome (storage.send_results).

The sender reads past a cursor, trusting that ids grow in the order rows are committed. SQLite
commits one writer at a time, so they do. PostgreSQL draws an id when a row is inserted and
commits transactions in any order, so a row could appear below the cursor after it moved on
(and a chat's replies go out of order, or one never). There, every transaction that writes
outbox rows holds a shared advisory lock from before its ids are drawn until it ends, and the
sender, having seen rows up to some id, takes the lock exclusively for a moment before reading
them: every transaction that drew a lower id has ended by then.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from tortoise.backends.base.client import TransactionalDBClient
from tortoise.connection import get_connection
from tortoise.transactions import in_transaction

from storage.models import OutboxMessage, OutboxStatus
from storage.sql import as_datetime, as_json, execute_many, fetch, to_json

OPEN = (OutboxStatus.PENDING, OutboxStatus.UNCERTAIN)
# A secret message (a sign-in link) is marked with this key in its stored payload; the key never
# reaches the Bot API, and the payload is replaced by SCRUBBED once the message has ended.
SCRUB_MARK = "_scrub_once_sent"
SCRUBBED: dict[str, Any] = {"secret": "removed once sent"}

# PostgreSQL's advisory lock between the outbox's writers (shared) and its reader (exclusive).
_WRITERS_LOCK = 0x6F7574626F78  # "outbox"


@dataclass(slots=True, eq=False)  # rows are told apart by identity: none has an id yet
class Queued:
    """An outbox row asked for and not written yet: a lane writes its rows in one statement at
    its end (collected_outbox). Plain, not a model: building a Tortoise model for each of the
    nineteen messages of a request cost more than writing them."""

    chat_id: int | None
    method: str
    payload: dict[str, Any]
    at: datetime  # asked for: created, and first due
    update_id: int | None = None
    dedupe_key: str | None = None
    about: str | None = None
    status: OutboxStatus = OutboxStatus.PENDING
    error: str | None = None


_collecting: ContextVar[list[Queued] | None] = ContextVar("outbox_batch", default=None)


@dataclass(frozen=True)
class Outgoing:
    id: int
    chat_id: int | None
    method: str
    payload: dict[str, Any]
    attempts: int  # unsuccessful attempts so far
    next_attempt_at: datetime
    uncertain: bool
    secret: bool = False  # its payload is scrubbed once it has been sent (or has failed)
    # A reply in conversation: caused by an update from the same chat. The sender puts it
    # ahead of notices waiting for Telegram's overall limit (bot.sender, bot.ratelimit).
    urgent: bool = False


class Outcome(StrEnum):
    SENT = "sent"
    RETRY = "retry"  # transient: try again at `retry_at`
    UNCERTAIN = "uncertain"  # timed out: may have been delivered; retry at `retry_at`
    FAILED = "failed"  # permanent
    UNREACHABLE = "unreachable"  # the recipient blocked the bot or is gone
    MIGRATED = "migrated"  # the group became a supergroup: `new_chat_id`


@dataclass(frozen=True)
class SendResult:
    outbox_id: int
    outcome: Outcome
    chat_id: int | None = None
    message_id: int | None = None
    retry_at: datetime | None = None
    error: str | None = None
    new_chat_id: int | None = None
    counts_as_attempt: bool = True
    secret: bool = False  # the row was secret: scrub its payload when it ends


async def enqueue(
    chat_id: int | None,
    method: str,
    payload: dict[str, Any],
    *,
    now: datetime,
    update_id: int | None = None,
    dedupe_key: str | None = None,
    secret: bool = False,
    about: str | None = None,
) -> None:
    """Ask for one Bot API call. With a dedupe key, asking twice queues it once. A `secret`
    call's payload (a sign-in link) is kept only until the call has been made. `about` tags a
    group message whose buttons act on a case (storage.stale_buttons).

    Inside `collected_outbox()` the row is written when the block ends, with its neighbours.
    """
    row = Queued(
        chat_id,
        method,
        {**payload, SCRUB_MARK: True} if secret else payload,
        now,
        update_id=update_id,
        dedupe_key=dedupe_key,
        about=about,
    )
    batch = _collecting.get()
    if batch is not None:
        batch.append(row)
        return
    async with _ids_in_commit_order():
        await execute_many(_INSERT, [_values(row)])


@asynccontextmanager
async def collected_outbox() -> AsyncIterator[None]:
    """Write the rows queued inside the block in one statement at its end (same transaction).

    The dispatcher wraps a lane of updates in it: one INSERT instead of one per message.
    """
    batch: list[Queued] = []
    token = _collecting.set(batch)
    try:
        yield
    finally:
        _collecting.reset(token)
    if batch:
        async with _ids_in_commit_order():
            await execute_many(_INSERT, [_values(row) for row in batch])


# What `collected_outbox` writes: plain SQL, every message of a lane passes here (storage/sql.py).
# A row whose dedupe key is taken already is not written (as `bulk_create` ignores conflicts).
_INSERT = (
    "INSERT INTO outbox_message (chat_id, method, payload, status, attempts, next_attempt_at,"
    " dedupe_key, update_id, error, created_at, about) VALUES (?, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT DO NOTHING"
)


def _values(row: Queued) -> tuple[Any, ...]:
    return (
        row.chat_id,
        row.method,
        to_json(row.payload),
        OutboxStatus(row.status).value,
        row.at,
        row.dedupe_key,
        row.update_id,
        row.error,
        row.at,
        row.about,
    )


@asynccontextmanager
async def _ids_in_commit_order() -> AsyncIterator[None]:
    """On PostgreSQL: the rows written in the block draw their ids under the writers' shared
    lock, held until the transaction ends (one of its own if none is under way)."""
    connection = get_connection("default")
    if connection.capabilities.dialect != "postgres":
        yield
    elif isinstance(connection, TransactionalDBClient):
        await connection.execute_query(f"SELECT pg_advisory_xact_lock_shared({_WRITERS_LOCK})")
        yield
    else:
        async with in_transaction() as transaction:
            await transaction.execute_query(
                f"SELECT pg_advisory_xact_lock_shared({_WRITERS_LOCK})"
            )
            yield


def collected() -> list[Queued]:
    """The rows queued inside the current `collected_outbox()` block and not written yet (an
    erasure must reach them too: they commit with it)."""
    return _collecting.get() or []


async def open_messages_after(cursor: int, limit: int) -> list[Outgoing]:
    """Unsent rows with an id above `cursor`, oldest first (ids grow with time).

    The sender reads each row once this way and keeps it until its outcome is recorded; after a
    restart it starts again from 0 and so picks up everything still open, retries included.
    """
    if get_connection("default").capabilities.dialect != "postgres":
        rows = await fetch(  # every message passes here: plain SQL (storage/sql.py)
            f"SELECT {_COLUMNS} FROM outbox_message o"  # noqa: S608 - names, no values
            " WHERE status IN (?, ?) AND id > ? ORDER BY id LIMIT ?",
            *(s.value for s in OPEN),
            cursor,
            limit,
        )
        return [_outgoing(r) for r in rows]
    seen = await fetch(
        "SELECT max(id) AS top FROM (SELECT id FROM outbox_message"
        " WHERE status IN (?, ?) AND id > ? ORDER BY id LIMIT ?) AS batch",
        *(s.value for s in OPEN),
        cursor,
        limit,
    )
    top = seen[0]["top"] if seen else None
    if top is None:
        return []
    # Every transaction that drew an id up to `top` has ended once the lock is ours.
    async with in_transaction() as transaction:
        await transaction.execute_query(f"SELECT pg_advisory_xact_lock({_WRITERS_LOCK})")
    rows = await fetch(
        f"SELECT {_COLUMNS} FROM outbox_message o"  # noqa: S608 - names, no values
        " WHERE status IN (?, ?) AND id > ? AND id <= ? ORDER BY id",
        *(s.value for s in OPEN),
        cursor,
        top,
    )
    return [_outgoing(r) for r in rows]


# A row is urgent when the update that caused it came from the chat it goes to: the answer a
# person in conversation waits for (the inbox's update_id is unique, so this is one lookup).
_COLUMNS = (
    "id, chat_id, method, payload, attempts, next_attempt_at, status,"
    " (update_id IS NOT NULL AND EXISTS (SELECT 1 FROM inbox_update i"
    " WHERE i.update_id = o.update_id AND i.chat_key = o.chat_id)) AS urgent"
)


def _outgoing(r: dict[str, Any]) -> Outgoing:
    payload = as_json(r["payload"])
    secret = bool(payload.pop(SCRUB_MARK, False))
    return Outgoing(
        id=r["id"],
        chat_id=r["chat_id"],
        method=r["method"],
        payload=payload,
        attempts=r["attempts"],
        next_attempt_at=as_datetime(r["next_attempt_at"]),
        uncertain=r["status"] == OutboxStatus.UNCERTAIN.value,
        secret=secret,
        urgent=bool(r["urgent"]),
    )


async def recent_sends(now: datetime, seconds: float = 60.0) -> list[tuple[int, datetime]]:
    """(chat, sent at) of the messages sent in the last `seconds`: what a new sender counts
    against Telegram's limits when another process sent them."""
    rows = await fetch(
        "SELECT chat_id, sent_at FROM outbox_message"
        " WHERE status = ? AND sent_at >= ? AND chat_id IS NOT NULL",
        OutboxStatus.SENT.value,
        now - timedelta(seconds=seconds),
    )
    return [(r["chat_id"], as_datetime(r["sent_at"])) for r in rows]


async def forget_calls(methods: Sequence[str]) -> int:
    """Drop every queued or sent call of these methods, so their dedupe keys are free again."""
    return await OutboxMessage.filter(method__in=list(methods)).delete()


async def highest_message_id() -> int:
    """The largest message_id Telegram gave a sent row, in any chat (0 for none)."""
    rows = await fetch("SELECT max(message_id) AS top FROM outbox_message")
    return int(rows[0]["top"] or 0) if rows else 0
