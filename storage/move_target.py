"""The target's side of a desk's move: the connection, and what is set aside while the tables
fill.

The connection is asyncpg's own, in UTC, with JSON columns read as Python values. Set aside are
the tables' secondary indexes, unique constraints and foreign keys: dropped before the COPY and
made again after it, in the move's own transaction.

An index built once over the loaded rows (one sort) costs a fraction of inserting every row into
it as it comes (a case has a dozen indexes, one of them a trigram index on its text), and a
foreign key checked once over the whole table (one join) a fraction of its trigger's lookup per
row. The definitions are read from the target's catalogue (pg_get_indexdef,
pg_get_constraintdef) after its migration, so what is made again is what the migrations made,
names included. A row that breaks one of them makes the remaking fail, and the transaction rolls
back with the indexes and the keys as they were and no row written. Primary keys stay: rows
arrive in their order, so each goes at the end of its index.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from storage.config import asyncpg_dsn
from storage.move_plan import MoveRefused
from storage.sql import to_json

JSONB_VERSION = b"\x01"  # the first byte of jsonb's binary form

_CONSTRAINTS = """
SELECT t.relname AS tbl, c.conname AS name, c.contype AS kind,
  pg_get_constraintdef(c.oid) AS definition
FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid
WHERE t.relname = ANY($1::text[]) AND t.relnamespace = current_schema()::regnamespace
  AND c.contype IN ('f', 'u')
ORDER BY c.contype, t.relname, c.conname
"""

# Indexes of their own: neither a primary key's nor a unique constraint's (those come and go
# with their constraint).
_INDEXES = """
SELECT t.relname AS tbl, i.relname AS name, pg_get_indexdef(x.indexrelid) AS definition
FROM pg_index x
JOIN pg_class i ON i.oid = x.indexrelid
JOIN pg_class t ON t.oid = x.indrelid
WHERE t.relname = ANY($1::text[]) AND t.relnamespace = current_schema()::regnamespace
  AND NOT EXISTS (
    SELECT 1 FROM pg_constraint c
    WHERE c.conindid = x.indexrelid AND c.conrelid = x.indrelid AND c.contype IN ('p', 'u', 'x')
  )
ORDER BY t.relname, i.relname
"""


def driver_module() -> Any:
    """asyncpg, the module (it ships no type hints)."""
    try:
        # deferred: asyncpg is the optional [postgres] extra; SQLite-only desks lack it
        import asyncpg  # type: ignore[import-untyped]
    except ImportError as missing:
        raise MoveRefused(
            "PostgreSQL needs asyncpg: pip install 'minsheng[postgres]'"
        ) from missing
    return asyncpg


async def connect(driver: Any, url: str) -> Any:
    """A connection of the move's own (MoveRefused when there is none to be had)."""
    dsn = asyncpg_dsn(url)
    try:
        # A datetime SQLite holds without an offset is UTC, as storage.sql.as_datetime reads it.
        connection = await driver.connect(dsn, server_settings={"TimeZone": "UTC"})
    except (OSError, driver.PostgresError) as failed:
        raise MoveRefused(f"cannot connect to the target database: {failed}") from failed
    # JSON columns give Python values, to compare with the source's.
    await connection.set_type_codec(
        "jsonb", encoder=_jsonb, decoder=_from_jsonb, schema="pg_catalog", format="binary"
    )
    await connection.set_type_codec(
        "json", encoder=to_json, decoder=json.loads, schema="pg_catalog", format="text"
    )
    return connection


def _jsonb(value: Any) -> bytes:
    return JSONB_VERSION + to_json(value).encode()


def _from_jsonb(data: bytes) -> Any:
    return json.loads(data[1:])


def _name(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@dataclass(frozen=True)
class SetAside:
    """The statements that make again what was dropped, in the order to run them."""

    indexes: tuple[str, ...]  # secondary indexes and unique constraints
    keys: tuple[str, ...]  # foreign keys, after the indexes they may lean on

    @property
    def count(self) -> int:
        return len(self.indexes) + len(self.keys)


async def set_aside(target: Any, tables: Sequence[str]) -> SetAside:
    """Drop the foreign keys, unique constraints and secondary indexes of `tables` (inside the
    caller's transaction); what makes them again."""
    names = list(tables)
    constraints = await target.fetch(_CONSTRAINTS, names)
    indexes = await target.fetch(_INDEXES, names)
    keys = [row for row in constraints if row["kind"] == "f"]
    uniques = [row for row in constraints if row["kind"] == "u"]
    for row in [*keys, *uniques]:  # the keys first: one may lean on a unique constraint
        await target.execute(
            f"ALTER TABLE {_name(row['tbl'])} DROP CONSTRAINT {_name(row['name'])}"
        )
    for row in indexes:
        await target.execute(f"DROP INDEX {_name(row['name'])}")
    return SetAside(
        indexes=tuple(
            [row["definition"] for row in indexes] + [_add_constraint(row) for row in uniques]
        ),
        keys=tuple(_add_constraint(row) for row in keys),
    )


def _add_constraint(row: Any) -> str:
    return (
        f"ALTER TABLE {_name(row['tbl'])} ADD CONSTRAINT {_name(row['name'])} {row['definition']}"
    )


async def make_again(target: Any, aside: SetAside) -> None:
    """Build the indexes and check the keys over the rows now there."""
    for statement in [*aside.indexes, *aside.keys]:
        await target.execute(statement)
