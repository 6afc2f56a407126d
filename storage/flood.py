"""The per-citizen gate: how fast a chat is writing, and whether its citizen is blocked.

Everything is derived from rows that exist anyway: the inbox holds every update a chat sent
(with the time it arrived), so a flood is counted there, on its (chat_key, received_at) index.
Nothing is kept in memory, so several workers, restarts and replays all decide alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from storage.inbox import handling
from storage.lane_reads import lane_reads
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
    # Every private update passes here: plain SQL (see storage/sql.py), one query when the
    # dispatcher is handling the update (its inbox row is known), else two.
    this_row = handling.get()
    if this_row is not None and this_row.update_id == update_id and this_row.received_at:
        reads = lane_reads()  # read ahead for the whole lane (storage.lane_reads)
        ahead = reads.floods.get(this_row.id) if reads and reads.window == window else None
        known, citizen = reads.citizen(user_id) if reads else (False, None)
        if ahead is not None and not known and reads is not None:  # the lane has written
            await reads.reread(user_id)  # for touch_citizen and current_draft too
            known, citizen = reads.citizen(user_id)
        if ahead is not None and known:
            return GateState(
                recent=ahead,
                received_at=this_row.received_at,
                blocked=bool(citizen and citizen["blocked"]),
            )
        rows = await fetch(
            "SELECT (SELECT count(*) FROM inbox_update WHERE chat_key = ? AND received_at >= ?"
            " AND received_at <= ? AND id <= ?) AS n,"
            " (SELECT blocked FROM citizen WHERE id = ?) AS blocked",
            chat_key,
            this_row.received_at - window,
            this_row.received_at,
            this_row.id,
            user_id,
        )
        return GateState(
            recent=int(rows[0]["n"]),
            received_at=this_row.received_at,
            blocked=bool(rows[0]["blocked"]),
        )
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
