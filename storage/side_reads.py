"""Reads of one report that run beside each other, each on a connection of its own, so that a
report over a month of a big desk uses every core.

SQLite answers one statement at a time on one connection, on one core, and the bot's own
connection is shared by everything the process does. A report's reads that are independent
(the parts of a period) go instead to read-only connections opened for them: aiosqlite gives
each a thread, and SQLite lets go of Python's lock while it reads, so they truly run at once. In
WAL mode readers never wait for the writer, nor it for them.

PostgreSQL, too, answers a connection's statements one after another, with one backend process,
and a handler's transaction is one connection. Each read goes to a connection opened for it with
the desk's own settings, outside the pool: taking them from the pool could wait for ever on a
pool that handlers have filled, while the handler asking holds one of them.

Each read sees what was committed when it began: a case committed between two of them is counted
in its part or not at all, never twice.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

import aiosqlite
from tortoise.connection import get_connection

from storage.sql import dialect_sql, fetch, sql_param

Query = tuple[str, Sequence[Any]]


def _client() -> Any:
    """The desk's database client, also from inside a transaction's wrapper around it."""
    connection: Any = get_connection("default")
    while (parent := getattr(connection, "_parent", None)) is not None:
        connection = parent
    return connection


def sqlite_file() -> str | None:
    """The SQLite file the desk is on, or None (PostgreSQL, or a database in memory)."""
    client = _client()
    if client.capabilities.dialect != "sqlite":
        return None
    path = getattr(client, "filename", None)
    return None if path in (None, "", ":memory:") else str(path)


def _postgres_settings() -> dict[str, Any] | None:
    """What asyncpg.connect needs to reach the desk's PostgreSQL database, or None."""
    client = _client()
    if client.capabilities.dialect != "postgres" or not hasattr(client, "host"):
        return None
    # deferred: asyncpg is the optional [postgres] extra; SQLite-only desks lack it
    import asyncpg  # type: ignore[import-untyped]

    settings = {
        "host": client.host,
        "port": client.port,
        "user": client.user,
        "password": client.password,
        "database": client.database,
        "server_settings": dict(client.server_settings),
        **client.extra,
    }
    return {name: value for name, value in settings.items() if name in _connect_arguments(asyncpg)}


@functools.cache
def _connect_arguments(asyncpg: Any) -> frozenset[str]:
    """What asyncpg.connect takes: the desk's settings may also hold the pool's own
    (max_queries, …), which connect() refuses."""
    return frozenset(inspect.signature(asyncpg.connect).parameters)


def side_by_side() -> bool:
    """Whether reads passed to fetch_side_by_side truly run at once."""
    return sqlite_file() is not None or _postgres_settings() is not None


async def fetch_side_by_side(queries: Sequence[Query]) -> list[list[dict[str, Any]]]:
    """The rows of each query, as dicts, in the order of the queries; at once where it helps."""
    if len(queries) >= 2:
        if path := sqlite_file():
            return list(await asyncio.gather(*(_sqlite_read(path, *query) for query in queries)))
        if settings := _postgres_settings():
            reads = (_postgres_read(settings, *query) for query in queries)
            return list(await asyncio.gather(*reads))
    return [await fetch(sql, *params) for sql, params in queries]


async def _sqlite_read(path: str, sql: str, params: Sequence[Any]) -> list[dict[str, Any]]:
    uri = f"file:{quote(path)}?mode=ro"
    values = [sql_param(p, "sqlite") for p in params]
    async with aiosqlite.connect(uri, uri=True) as db, db.execute(sql, values) as cursor:
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in await cursor.fetchall()]


async def _postgres_read(
    settings: dict[str, Any], sql: str, params: Sequence[Any]
) -> list[dict[str, Any]]:
    import asyncpg  # deferred: the optional [postgres] extra, as in _postgres_settings

    connection = await asyncpg.connect(**settings)
    try:
        rows = await connection.fetch(dialect_sql(sql, "postgres"), *params)
    finally:
        await connection.close()
    return [dict(row) for row in rows]
