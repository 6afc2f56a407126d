"""The inbox: every update from Telegram, stored before it is acknowledged, handled once."""

from __future__ import annotations

from collections.abc import Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise.connection import get_connection

from storage.models import InboxStatus, InboxUpdate
from storage.sql import as_datetime, as_json, execute, execute_many, fetch, to_json

# PostgreSQL holds no U+0000 in text or JSON ("unsupported Unicode escape sequence"): one such
# character in an update would fail its whole batch, again at every poll. It becomes U+FFFD.
_NUL, _REPLACEMENT = "\x00", "\ufffd"


@dataclass(frozen=True)
class IncomingUpdate:
    """What ingress knows of an update before it is handled."""

    update_id: int
    chat_key: int
    payload: dict[str, Any]


@dataclass(frozen=True)
class PendingUpdate:
    id: int
    update_id: int
    chat_key: int
    payload: dict[str, Any]
    attempts: int
    received_at: datetime | None = None  # for the latency metric


# The inbox row of the update the dispatcher is handling: a read about this very update (the
# flood gate's) takes the row's id and arrival from here instead of asking the database again.
handling: ContextVar[PendingUpdate | None] = ContextVar("inbox_handling", default=None)


async def store_updates(updates: Sequence[IncomingUpdate], *, now: datetime) -> None:
    """Store a batch in one statement; an update_id seen before is ignored."""
    if not updates:
        return
    clean = get_connection("default").capabilities.dialect == "postgres"
    rows = [
        (
            u.update_id,
            u.chat_key,
            to_json(_without_nul(u.payload) if clean else u.payload),
            InboxStatus.PENDING.value,
            now,
        )
        for u in {u.update_id: u for u in updates}.values()
    ]
    await execute_many(  # every update passes here: plain SQL (storage/sql.py)
        "INSERT INTO inbox_update (update_id, chat_key, payload, status, attempts, received_at)"
        " VALUES (?, ?, ?, ?, 0, ?) ON CONFLICT DO NOTHING",
        rows,
    )


def _without_nul(value: Any) -> Any:
    """``value`` (decoded JSON) with every U+0000 in its strings and keys replaced."""
    if isinstance(value, str):
        return value.replace(_NUL, _REPLACEMENT)
    if isinstance(value, dict):
        return {_without_nul(key): _without_nul(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_without_nul(item) for item in value]
    return value


async def pending_updates(limit: int) -> list[PendingUpdate]:
    """Unhandled updates, oldest first (the order Telegram gave them)."""
    rows = await fetch(  # every update passes here: plain SQL (storage/sql.py)
        "SELECT id, update_id, chat_key, payload, attempts, received_at FROM inbox_update"
        " WHERE status = ? ORDER BY id LIMIT ?",
        InboxStatus.PENDING.value,
        limit,
    )
    return [
        PendingUpdate(
            r["id"],
            r["update_id"],
            r["chat_key"],
            as_json(r["payload"]),
            r["attempts"],
            as_datetime(r["received_at"]),
        )
        for r in rows
    ]


async def finish_update(inbox_id: int, *, now: datetime) -> bool:
    """Mark handled; False if another worker got there first (the caller must roll back)."""
    changed = await InboxUpdate.filter(id=inbox_id, status=InboxStatus.PENDING).update(
        status=InboxStatus.DONE, handled_at=now
    )
    return changed == 1


async def finish_updates(inbox_ids: Sequence[int], *, now: datetime) -> bool:
    """Mark a batch handled in one statement; False if another worker took any of them first
    (the caller must then roll back and go one by one)."""
    if not inbox_ids:
        return True
    marks = ", ".join("?" * len(inbox_ids))
    changed = await execute(  # once per lane: plain SQL (storage/sql.py)
        f"UPDATE inbox_update SET status = ?, handled_at = ?"  # noqa: S608 - marks, no values
        f" WHERE status = ? AND id IN ({marks})",
        InboxStatus.DONE.value,
        now,
        InboxStatus.PENDING.value,
        *inbox_ids,
    )
    return changed == len(inbox_ids)


async def fail_update(inbox_id: int, error: str, *, now: datetime) -> None:
    """Give up on an update whose handler raised; it stays for an operator to inspect."""
    await InboxUpdate.filter(id=inbox_id).update(
        status=InboxStatus.FAILED, error=error[:2000], handled_at=now, attempts=1
    )


async def highest_update_id() -> int:
    """The largest update_id ever stored (0 for none)."""
    rows = await fetch("SELECT max(update_id) AS top FROM inbox_update")
    return int(rows[0]["top"] or 0) if rows else 0


async def claim_chats(items: Sequence[PendingUpdate]) -> list[PendingUpdate]:
    """Of a lane's updates, those this process may handle now, inside the lane's transaction.

    On PostgreSQL several processes share the inbox. Each chat is locked for the transaction
    (an advisory lock on the chat, tried, not waited for): a chat another process is handling
    is left to it, so each chat's updates go through one process at a time, in order. Having
    the lock, the updates another process finished meanwhile are dropped. One process on
    SQLite (or alone on PostgreSQL) keeps them all.
    """
    if not items or get_connection("default").capabilities.dialect != "postgres":
        return list(items)
    chats = sorted({item.chat_key for item in items})
    rows = await fetch(
        "SELECT chat FROM unnest(?::bigint[]) AS chat"
        " WHERE pg_try_advisory_xact_lock(hashtextextended('minsheng-chat:' || chat, 0))",
        chats,
    )
    mine = {row["chat"] for row in rows}
    ids = [item.id for item in items if item.chat_key in mine]
    if not ids:
        return []
    rows = await fetch(
        "SELECT id FROM inbox_update WHERE id = ANY(?::bigint[]) AND status = ?",
        ids,
        InboxStatus.PENDING.value,
    )
    still = {row["id"] for row in rows}
    return [item for item in items if item.id in still]
