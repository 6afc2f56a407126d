"""Reads of one report that run beside each other: on SQLite, each on a read-only connection
of its own, in a thread of its own, so that a report over a month of a big desk uses every core.

SQLite answers one statement at a time on one connection, on one core, and the bot's own
connection is shared by everything the process does. A report's reads that are independent
(the parts of a period) go instead to connections opened for them: aiosqlite gives each a
thread, and SQLite lets go of Python's lock while it reads, so they truly run at once. In WAL
mode readers never wait for the writer, nor it for them. Each sees what was committed when it
began: a case committed between two of them is counted in its part or not at all, never twice.

On PostgreSQL the reads run one after another on the connection at hand (a transaction's, when
a handler asks); the server is fast enough at these, and a transaction is one connection.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

import aiosqlite
from tortoise.connection import get_connection

from storage.sql import fetch, sql_param

Query = tuple[str, Sequence[Any]]


def sqlite_file() -> str | None:
    """The SQLite file the desk is on, or None (PostgreSQL, or a database in memory)."""
    connection: Any = get_connection("default")
    if connection.capabilities.dialect != "sqlite":
        return None
    while not hasattr(connection, "filename") and hasattr(connection, "_parent"):
        connection = connection._parent  # a transaction's wrapper, around the client
    path = getattr(connection, "filename", None)
    return None if path in (None, "", ":memory:") else str(path)


async def fetch_side_by_side(queries: Sequence[Query]) -> list[list[dict[str, Any]]]:
    """The rows of each query, as dicts, in the order of the queries; at once where it helps."""
    path = sqlite_file()
    if path is None or len(queries) < 2:
        return [await fetch(sql, *params) for sql, params in queries]
    return list(await asyncio.gather(*(_read(path, sql, params) for sql, params in queries)))


async def _read(path: str, sql: str, params: Sequence[Any]) -> list[dict[str, Any]]:
    uri = f"file:{quote(path)}?mode=ro"
    values = [sql_param(p, "sqlite") for p in params]
    async with aiosqlite.connect(uri, uri=True) as db, db.execute(sql, values) as cursor:
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in await cursor.fetchall()]
