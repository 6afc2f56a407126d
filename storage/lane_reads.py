"""What a lane's updates read about themselves, read once for the whole lane on SQLite.

Every citizen update asks the database three small things before its handler runs: how many
updates its chat sent in the flood window (storage.flood), who its citizen is (storage.citizens)
and the request they are writing (storage.drafts). Each question is a call into SQLite's thread,
which costs far more than the query. The dispatcher reads them for a lane's updates in three
queries at the lane's start, inside its transaction; the gate, touch_citizen and current_draft
take their answer from here while it holds.

A flood count holds for the whole lane: it counts stored updates up to this one, and the lane
changes none of them. A citizen or draft row holds only while the lane has changed nothing at
all: SQLite counts every row a connection changes, so once that count moves (a handler wrote
anything), the rows are read again as before. The gate then reads its user's citizen and draft
again in one query (`LaneReads.reread`), and those hold in turn until the next change. One
process writes a SQLite database and the lane's transaction reads one snapshot, so nothing
else can change them meanwhile. On PostgreSQL, where other processes write, nothing is read
ahead.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from tortoise.connection import get_connection

from storage.sql import fetch

CITIZEN_COLUMNS = "id, language, language_chosen, first_name, blocked, unreachable"
DRAFT_COLUMNS = "citizen_id, step, data, updated_at"
COMPOUND = 200  # SELECTs joined by UNION ALL in one query (SQLite allows 500)
_CITIZEN_NAMES = tuple(CITIZEN_COLUMNS.split(", "))
_DRAFT_NAMES = tuple(DRAFT_COLUMNS.split(", "))
# One user's citizen and draft rows at once (a row of NULLs where there is none).
_USER_SQL = (
    "SELECT "  # noqa: S608 - column names
    + ", ".join([*(f"c.{n}" for n in _CITIZEN_NAMES), *(f"d.{n}" for n in _DRAFT_NAMES)])
    + " FROM (SELECT 1 AS one) o LEFT JOIN citizen c ON c.id = ?"
    " LEFT JOIN draft d ON d.citizen_id = ?"
)


@dataclass(frozen=True)
class Arrival:
    """An update of the lane as the inbox holds it."""

    inbox_id: int
    chat_key: int
    user_id: int | None
    received_at: datetime


@dataclass
class LaneReads:
    floods: dict[int, int]  # inbox id -> updates of its chat in the window, itself included
    citizens: dict[int, dict[str, Any] | None]  # user id -> citizen row (None: no citizen)
    changes: int  # the connection's count of changed rows when they were read
    drafts: dict[int, dict[str, Any] | None] = field(default_factory=dict)  # user id -> row
    window: timedelta = timedelta(0)  # the flood window the counts were made for
    # user id -> the count of changed rows when their rows were read again (see `reread`)
    marks: dict[int, int] = field(default_factory=dict)
    raw: Any = None  # the lane's SQLite connection (aiosqlite's), whose count is read

    def _changes(self) -> int | None:
        """The connection's count now: asked several times an update, so read from the
        connection kept here, not looked up again."""
        return _total_changes(self.raw)

    def citizen(self, user_id: int) -> tuple[bool, dict[str, Any] | None]:
        """(known, row): known is False once the lane has written, or for another user."""
        mark = self.marks.get(user_id, self.changes)
        if user_id not in self.citizens or self._changes() != mark:
            return False, None
        return True, self.citizens[user_id]

    def draft(self, citizen_id: int) -> tuple[bool, dict[str, Any] | None]:
        """(known, row) of the citizen's draft, under the same rule as `citizen`."""
        mark = self.marks.get(citizen_id, self.changes)
        if citizen_id not in self.drafts or self._changes() != mark:
            return False, None
        return True, self.drafts[citizen_id]

    async def reread(self, user_id: int) -> None:
        """Read the user's citizen and draft rows again, in one query: once the lane has
        written, each update's gate, citizen and draft would otherwise ask one each. They hold,
        as the rows read at the lane's start, until the lane changes anything again."""
        mark = self._changes()
        if mark is None:
            return
        row = (await fetch(_USER_SQL, user_id, user_id))[0]
        citizen = {name: row[name] for name in _CITIZEN_NAMES}
        draft = {name: row[name] for name in _DRAFT_NAMES}
        self.citizens[user_id] = citizen if citizen["id"] is not None else None
        self.drafts[user_id] = draft if draft["citizen_id"] is not None else None
        self.marks[user_id] = mark


_reads: ContextVar[LaneReads | None] = ContextVar("lane_reads", default=None)


def lane_reads() -> LaneReads | None:
    """What the lane under way read ahead (None: nothing, read as usual)."""
    return _reads.get()


@asynccontextmanager
async def reading_ahead(arrivals: Sequence[Arrival], *, window: timedelta) -> AsyncIterator[None]:
    """Inside the lane's transaction: read its flood counts and citizens, for the block."""
    raw = _raw()
    before = _total_changes(raw)
    if before is None or not arrivals:
        yield
        return
    floods = await _flood_counts(arrivals, window)
    users = sorted({a.user_id for a in arrivals if a.user_id is not None})
    citizens: dict[int, dict[str, Any] | None] = dict.fromkeys(users)
    if users:
        marks = ", ".join("?" * len(users))
        for row in await fetch(
            f"SELECT {CITIZEN_COLUMNS} FROM citizen WHERE id IN ({marks})",  # noqa: S608
            *users,
        ):
            citizens[int(row["id"])] = row
    drafts: dict[int, dict[str, Any] | None] = dict.fromkeys(users)
    if users:
        for row in await fetch(
            f"SELECT {DRAFT_COLUMNS} FROM draft WHERE citizen_id IN ({marks})",  # noqa: S608
            *users,
        ):
            drafts[int(row["citizen_id"])] = row
    reads = LaneReads(floods, citizens, before, drafts, window, raw=raw)
    token = _reads.set(reads)
    try:
        yield
    finally:
        _reads.reset(token)


async def _flood_counts(arrivals: Sequence[Arrival], window: timedelta) -> dict[int, int]:
    """Each update's count as storage.flood.gate_state makes it, in one query."""
    one = (
        "SELECT ? AS inbox_id, (SELECT count(*) FROM inbox_update WHERE chat_key = ?"
        " AND received_at >= ? AND received_at <= ? AND id <= ?) AS n"
    )
    counts: dict[int, int] = {}
    for start in range(0, len(arrivals), COMPOUND):
        chunk = arrivals[start : start + COMPOUND]
        params: list[Any] = []
        for a in chunk:
            params += [a.inbox_id, a.chat_key, a.received_at - window, a.received_at, a.inbox_id]
        rows = await fetch(" UNION ALL ".join([one] * len(chunk)), *params)
        counts.update((int(row["inbox_id"]), int(row["n"])) for row in rows)
    return counts


def _total_changes(raw: Any) -> int | None:
    """Rows the SQLite connection has changed since it opened; None on PostgreSQL."""
    changes = getattr(raw, "total_changes", None)
    return changes if isinstance(changes, int) else None


def _raw() -> Any:
    """The aiosqlite connection under Tortoise's (None on PostgreSQL)."""
    connection = get_connection("default")
    if connection.capabilities.dialect != "sqlite":
        return None
    # Tortoise keeps its aiosqlite connection here; reading the count asks no query.
    return getattr(connection, "_connection", None)
