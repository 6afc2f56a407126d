"""What a desk's move copies: the tables of storage.models and desk_models in foreign-key order,
each with the target's columns and how a SQLite value becomes the value PostgreSQL's column takes.

The target's own catalogue (after its migration) says the column types and the foreign keys;
the source must have the same columns and the same migrations applied, or the move is refused.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from graphlib import TopologicalSorter
from typing import Any

import aiosqlite

from storage import desk_models, models
from storage.sql import as_datetime, as_json

MIGRATIONS_TABLE = "tortoise_migrations"  # Tortoise's record of the migrations applied

Reader = Callable[[Any], Any]


class MoveRefused(Exception):
    """The move did not start: a database is not what it needs. No row was copied."""


class TargetNotEmpty(MoveRefused):
    """The target already holds rows in some of our tables: a desk moves into an empty one."""

    def __init__(self, tables: Sequence[str]) -> None:
        super().__init__(
            "the target database already holds rows in "
            + ", ".join(tables)
            + ": a desk moves only into an empty database"
        )
        self.tables = tuple(tables)


@dataclass(frozen=True)
class Table:
    """One table to copy: its key, the target's columns and their types."""

    name: str
    key: str
    columns: tuple[str, ...]
    kinds: tuple[str, ...]  # information_schema's data_type, one per column

    @property
    def readers(self) -> list[Reader | None]:
        return [reader(kind) for kind in self.kinds]

    def quoted(self) -> str:
        return ", ".join(f'"{column}"' for column in self.columns)


def model_tables() -> dict[str, str]:
    """Every table of storage.models and storage.desk_models, with its primary key column."""
    found = {}
    for value in [*vars(models).values(), *vars(desk_models).values()]:
        if inspect.isclass(value) and issubclass(value, models.Record):
            meta = value._meta
            if not meta.abstract:
                found[meta.db_table] = meta.db_pk_column
    return found


def reader(kind: str) -> Reader | None:
    """How a value read from SQLite becomes what asyncpg writes into a column of this type
    (None: as it is). Tortoise keeps datetimes in SQLite as ISO text, JSON as text, booleans
    as 0 and 1."""
    if kind == "timestamp with time zone":
        return as_datetime
    if kind == "timestamp without time zone":
        return _naive_utc
    if kind in ("json", "jsonb"):
        return as_json
    if kind == "boolean":
        return bool
    if kind in ("double precision", "real"):
        return float
    return None


# What each value becomes in COPY's text format: PostgreSQL reads the text SQLite holds (ISO
# datetimes, JSON, 0 and 1 for booleans) as the column's type. Naive datetimes are UTC, as the
# move's session says (storage.move_target.connect).
COPY_KINDS = frozenset(
    {
        "bigint",
        "boolean",
        "character varying",
        "date",
        "double precision",
        "integer",
        "jsonb",
        "json",
        "real",
        "smallint",
        "text",
        "timestamp with time zone",
    }
)
# COPY's text format escapes a backslash, a tab, a newline and a carriage return.
# COPY's text format: fields separated by tabs, rows ended by newlines, NULL as \N, and a
# backslash, a tab, a newline or a carriage return inside a value escaped. A batch is first
# joined with NUL marks (PostgreSQL's text holds no NUL, so no value it would take has one),
# then escaped and marked in a few passes over the whole batch rather than value by value.
_ESCAPED = (("\\", "\\\\"), ("\t", "\\t"), ("\n", "\\n"), ("\r", "\\r"))
_FIELD, _ROW, _NULL = "\x00T", "\x00R", "\x00"


def copy_text(rows: Sequence[Sequence[Any]], width: int) -> bytes:
    """Rows as SQLite gives them (`width` values each), in COPY's text format. ValueError for
    a value no column takes: bytes, or text with a NUL character."""
    text = (
        _ROW.join(
            [
                _FIELD.join(
                    [v if type(v) is str else _NULL if v is None else _number(v) for v in row]
                )
                for row in rows
            ]
        )
        + _ROW
    )
    if text.count(_NULL) != len(rows) * width + sum(row.count(None) for row in rows):
        raise ValueError("text with a NUL character")
    for plain, escape in _ESCAPED:
        text = text.replace(plain, escape)
    return text.replace(_FIELD, "\t").replace(_ROW, "\n").replace(_NULL, "\\N").encode()


def _number(value: Any) -> str:
    if type(value) is int or type(value) is float:
        return repr(value)  # a float's repr reads back as the same float
    raise ValueError(f"a value of type {type(value).__name__}")


def _naive_utc(value: Any) -> datetime:
    return as_datetime(value).astimezone(UTC).replace(tzinfo=None)


def normal(value: Any) -> Any:
    """A value read back from PostgreSQL, in the form `reader` gives the source's."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC)
    return value


async def migrations_of_source(source: aiosqlite.Connection) -> set[tuple[str, str]]:
    try:
        query = f'SELECT app, name FROM "{MIGRATIONS_TABLE}"'  # noqa: S608 - a constant name
        async with source.execute(query) as cursor:
            return {(str(app), str(name)) for app, name in await cursor.fetchall()}
    except aiosqlite.OperationalError as missing:
        raise MoveRefused(
            "the source is not a migrated Minsheng database (it has no migration record)"
        ) from missing


async def tables_with_rows(target: Any, tables: dict[str, str]) -> list[str]:
    present = {
        row["tablename"]
        for row in await target.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
        )
    }
    return [
        table
        for table in tables
        if table in present and await target.fetchval(f'SELECT EXISTS (SELECT 1 FROM "{table}")')  # noqa: S608
    ]


async def migrations_of_target(target: Any) -> set[tuple[str, str]]:
    rows = await target.fetch(f'SELECT app, name FROM "{MIGRATIONS_TABLE}"')  # noqa: S608
    return {(row["app"], row["name"]) for row in rows}


async def columns_of_target(target: Any) -> dict[str, list[tuple[str, str]]]:
    rows = await target.fetch(
        "SELECT table_name, column_name, data_type FROM information_schema.columns"
        " WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position"
    )
    columns: dict[str, list[tuple[str, str]]] = {}
    for row in rows:
        columns.setdefault(row["table_name"], []).append((row["column_name"], row["data_type"]))
    return columns


async def references_of_target(target: Any) -> list[tuple[str, str, str]]:
    """(table, column, referred table) for each single-column foreign key of the schema."""
    rows = await target.fetch(
        "SELECT child.relname AS tbl, a.attname AS col, parent.relname AS referred"
        " FROM pg_constraint c"
        " JOIN pg_class child ON child.oid = c.conrelid"
        " JOIN pg_class parent ON parent.oid = c.confrelid"
        " JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]"
        " WHERE c.contype = 'f' AND c.connamespace = current_schema()::regnamespace"
    )
    return [(row["tbl"], row["col"], row["referred"]) for row in rows]


def check_migrations(source: set[tuple[str, str]], target: set[tuple[str, str]]) -> None:
    """The same migrations on both sides, or a refusal that says what to do."""
    if behind := sorted(name for _, name in target - source):
        raise MoveRefused(
            "the source lacks migrations " + ", ".join(behind) + ": run `minsheng migrate` with"
            " MINSHENG_DATABASE_URL set to the source first"
        )
    if ahead := sorted(name for _, name in source - target):
        raise MoveRefused(
            "the source has migrations this version does not know: " + ", ".join(ahead)
        )


async def source_columns(source: aiosqlite.Connection, table: str) -> set[str]:
    async with source.execute(f'PRAGMA table_info("{table}")') as cursor:
        return {str(row[1]) for row in await cursor.fetchall()}


def plan_tables(
    keys: dict[str, str],
    columns: dict[str, list[tuple[str, str]]],
    references: Sequence[tuple[str, str, str]],
    source_has: dict[str, set[str]],
) -> list[Table]:
    """The tables in an order where each comes after those it refers to.

    `columns`: the target's (name, data_type) per table; `references`: (table, column, referred
    table) for each foreign key; `source_has`: the source's column names per table.
    """
    after: dict[str, set[str]] = {table: set() for table in keys}
    for table, _, referred in references:
        if table in keys and referred != table:  # a tree or a merge refers to its own table
            after[table].add(referred)
    planned = []
    for name in TopologicalSorter(after).static_order():
        if name not in keys:
            continue
        target = columns.get(name)
        if not target:
            raise MoveRefused(f"the target has no table {name} after its migration")
        names = tuple(column for column, _ in target)
        if odd := sorted(
            f"{column} ({kind})" for column, kind in target if kind not in COPY_KINDS
        ):
            raise MoveRefused(f"table {name} has columns the move cannot copy: {', '.join(odd)}")
        if set(names) != source_has[name]:
            raise MoveRefused(
                f"table {name} has other columns in the source ({sorted(source_has[name])})"
                f" than in the target ({sorted(names)})"
            )
        planned.append(
            Table(
                name=name,
                key=keys[name],
                columns=names,
                kinds=tuple(kind for _, kind in target),
            )
        )
    return planned
