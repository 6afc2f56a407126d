"""The per-citizen gate: how fast a chat is writing, and whether its citizen is blocked.

Everything is derived from rows that exist anyway: the inbox holds every update a chat sent
(with the time it arrived), so a flood is counted there, on its (chat_key, received_at) index.
Nothing is kept in memory, so several workers, restarts and replays all decide alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from storage.sql import as_datetime, fetch


@dataclass(frozen=True)
class GateState:
    recent: int  # updates of the chat in the window up to and including this one
    received_at: datetime | None  # when this update arrived (None: not from the inbox)
    blocked: bool


async def gate_state(
    chat_key: int, update_id: int, user_id: int, *, window: timedelta
) -> GateState:
    """Count the chat's updates that arrived in `window` before this one, this one included.

    Later updates already stored do not count: the first updates of a burst are served, the
    rest are not, whatever order the workers take them in.
    """
    # Every private update passes here: plain SQL, two queries (see storage/sql.py).
    rows = await fetch(
        "SELECT i.id, i.received_at, c.blocked FROM inbox_update i"
        " LEFT JOIN citizen c ON c.id = ? WHERE i.update_id = ?",
        user_id,
        update_id,
    )
    if not rows:
        blocked = await fetch("SELECT blocked FROM citizen WHERE id = ?", user_id)
        return GateState(
            recent=0, received_at=None, blocked=bool(blocked and blocked[0]["blocked"])
        )
    this = rows[0]
    received_at = as_datetime(this["received_at"])
    counted = await fetch(
        "SELECT count(*) AS n FROM inbox_update WHERE chat_key = ? AND received_at >= ?"
        " AND received_at <= ? AND id <= ?",
        chat_key,
        received_at - window,
        received_at,
        this["id"],
    )
    return GateState(
        recent=int(counted[0]["n"]), received_at=received_at, blocked=bool(this["blocked"])
    )
