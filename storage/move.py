"""Moving a desk: every row of its SQLite file into an empty PostgreSQL database, ids and all.

The target is migrated first (storage.db.migrate_database), so that it counts as migrated;
then the rows of every table of storage.models are copied in foreign-key order, in batches,
with COPY, in one transaction: a move that fails or does not check out leaves no row behind
and can simply be run again. The source is opened read-only and read in one read transaction,
a snapshot. The inbox and the outbox go across as they are: what was pending stays pending.

The copy uses aiosqlite and asyncpg directly rather than Tortoise with two named connections:
the storage operations all speak to the one connection "default", the ORM would build a model
object for each of millions of rows, and COPY writes rows many times faster than INSERTs.

Before the commit, each sequence is set past its column's largest id (new cases get new ids),
the row counts of every table are compared, and a random sample of rows is compared value by
value; after it, VACUUM (ANALYZE) gives the planner its statistics and the visibility map from
the first query on (without the map, PostgreSQL counts every index-only scan as reading the
table, and picks worse plans for the /queue pages until autovacuum comes round).
"""

from __future__ import annotations

import functools
import json
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import aiosqlite

from storage.config import asyncpg_dsn, on_postgres
from storage.db import migrate_database, sqlite_path
from storage.move_plan import (
    MoveRefused,
    Table,
    TargetNotEmpty,
    check_migrations,
    columns_of_target,
    migrations_of_source,
    migrations_of_target,
    model_tables,
    normal,
    plan_tables,
    references_of_target,
    source_columns,
    tables_with_rows,
)

__all__ = ["MoveMismatch", "MoveRefused", "MoveReport", "TargetNotEmpty", "move_desk"]

BATCH = 5_000  # rows per COPY, and per progress step
SAMPLE = 100  # rows per table compared value by value

# table, rows copied so far, rows in all
Progress = Callable[[str, int, int], None]

_JSON_TEXT = functools.partial(json.dumps, ensure_ascii=False, separators=(",", ":"))
JSONB_VERSION = b"\x01"  # the first byte of jsonb's binary form, which COPY uses


class MoveMismatch(Exception):
    """The copy does not match its source; it was rolled back and the target holds no row."""


@dataclass(frozen=True)
class MoveReport:
    rows: dict[str, int]  # table -> rows copied, in the order copied
    compared: int  # rows compared value by value
    sequences: int  # sequences set past their largest id
    seconds: float  # the copy and its checks

    @property
    def total(self) -> int:
        return sum(self.rows.values())

    @property
    def rows_per_second(self) -> float:
        return self.total / self.seconds if self.seconds else 0.0


async def move_desk(
    source_url: str,
    target_url: str,
    *,
    batch: int = BATCH,
    sample: int = SAMPLE,
    progress: Progress | None = None,
    seed: int | None = None,
) -> MoveReport:
    """Copy the desk in the SQLite file `source_url` into the PostgreSQL database `target_url`.

    Raises MoveRefused (TargetNotEmpty among them) before writing any row, and MoveMismatch
    when the copy does not check out (rolled back).
    """
    path = sqlite_path(source_url)
    if path is None or not path.is_file():
        raise MoveRefused(
            f"the source must be an existing SQLite file (sqlite://PATH): {source_url}"
        )
    if not on_postgres(target_url):
        raise MoveRefused("the target must be a PostgreSQL database (postgres://…)")
    keys = model_tables()
    driver = _driver()
    target = await _connect(driver, target_url)
    try:
        if full := await tables_with_rows(target, keys):
            raise TargetNotEmpty(full)
    finally:
        await target.close()
    await migrate_database(target_url)
    read_only = f"{path.resolve().as_uri()}?mode=ro"
    async with aiosqlite.connect(read_only, uri=True, isolation_level=None) as source:
        target = await _connect(driver, target_url)
        try:
            report = await _copy_all(source, target, keys, batch, sample, progress, seed)
            await target.execute("VACUUM (ANALYZE)")
        except (driver.IntegrityConstraintViolationError, driver.DataError) as refused:
            raise MoveMismatch(f"PostgreSQL refused a row: {refused}") from refused
        finally:
            await target.close()
    return report


async def _copy_all(
    source: aiosqlite.Connection,
    target: Any,
    keys: dict[str, str],
    batch: int,
    sample: int,
    progress: Progress | None,
    seed: int | None,
) -> MoveReport:
    check_migrations(await migrations_of_source(source), await migrations_of_target(target))
    tables = plan_tables(
        keys,
        await columns_of_target(target),
        await references_of_target(target),
        {table: await source_columns(source, table) for table in keys},
    )
    rng = random.Random(seed)  # noqa: S311 - which rows to compare, not a secret
    started = time.perf_counter()
    await source.execute("BEGIN")  # one snapshot for the counts, the copy and the samples
    try:
        counts = {table.name: await _count(source, table.name) for table in tables}
        picked: dict[str, list[Any]] = {}
        async with target.transaction():
            if full := await tables_with_rows(target, keys):  # written to since the migration
                raise TargetNotEmpty(full)
            for table in tables:
                total = counts[table.name]
                positions = set(rng.sample(range(total), min(sample, total)))
                picked[table.name] = await _copy_table(
                    source, target, table, total, positions, batch, progress
                )
            sequences = await _advance_sequences(target, tables)
            for table in tables:
                await _check_table(source, target, table, counts[table.name], picked[table.name])
    finally:
        await source.execute("ROLLBACK")
    return MoveReport(
        rows=counts,
        compared=sum(len(chosen) for chosen in picked.values()),
        sequences=sequences,
        seconds=time.perf_counter() - started,
    )


def _driver() -> Any:
    """asyncpg, the module (it ships no type hints)."""
    try:
        # deferred: asyncpg is the optional [postgres] extra; SQLite-only desks lack it
        import asyncpg  # type: ignore[import-untyped]
    except ImportError as missing:
        raise MoveRefused(
            "PostgreSQL needs asyncpg: pip install 'minsheng[postgres]'"
        ) from missing
    return asyncpg


async def _connect(driver: Any, url: str) -> Any:
    dsn = asyncpg_dsn(url)
    try:
        connection = await driver.connect(dsn)
    except (OSError, driver.PostgresError) as failed:
        raise MoveRefused(f"cannot connect to the target database: {failed}") from failed
    # JSON columns take and give Python values, in the binary form that COPY speaks.
    await connection.set_type_codec(
        "jsonb", encoder=_jsonb, decoder=_from_jsonb, schema="pg_catalog", format="binary"
    )
    await connection.set_type_codec(
        "json", encoder=_json, decoder=json.loads, schema="pg_catalog", format="binary"
    )
    return connection


def _json(value: Any) -> bytes:
    return _JSON_TEXT(value).encode()


def _jsonb(value: Any) -> bytes:
    return JSONB_VERSION + _JSON_TEXT(value).encode()


def _from_jsonb(data: bytes) -> Any:
    return json.loads(data[1:])


async def _count(source: aiosqlite.Connection, table: str) -> int:
    async with source.execute(f'SELECT count(*) FROM "{table}"') as cursor:  # noqa: S608
        row = await cursor.fetchone()
    return int(row[0]) if row else 0


async def _copy_table(
    source: aiosqlite.Connection,
    target: Any,
    table: Table,
    total: int,
    positions: set[int],
    batch: int,
    progress: Progress | None,
) -> list[Any]:
    """COPY the table's rows in batches; the keys of the rows at `positions`, to compare."""
    readers = table.readers
    key_at = table.columns.index(table.key)
    picked: list[Any] = []
    # A reference to a row further on (a department under a later one, a case merged into a
    # newer one) is written empty, then set once its row is there.
    later: list[tuple[Any, int, Any]] = []
    done = 0
    if progress:
        progress(table.name, 0, total)
    select = f'SELECT {table.quoted()} FROM "{table.name}" ORDER BY "{table.key}"'  # noqa: S608
    async with source.execute(select) as cursor:
        while rows := await cursor.fetchmany(batch):
            records = []
            for row in rows:
                values = [
                    value if read is None or value is None else read(value)
                    for value, read in zip(row, readers, strict=True)
                ]
                key = values[key_at]
                for at in table.self_refs:
                    if values[at] is not None and values[at] > key:
                        later.append((key, at, values[at]))
                        values[at] = None
                if done in positions:
                    picked.append(key)
                done += 1
                records.append(tuple(values))
            await target.copy_records_to_table(table.name, records=records, columns=table.columns)
            if progress:
                progress(table.name, done, total)
    for key, at, value in later:
        await target.execute(
            f'UPDATE "{table.name}" SET "{table.columns[at]}" = $1 WHERE "{table.key}" = $2',  # noqa: S608
            value,
            key,
        )
    return picked


async def _advance_sequences(target: Any, tables: Sequence[Table]) -> int:
    """Set every sequence of our tables' columns past the largest value copied."""
    advanced = 0
    for table in tables:
        for column in table.columns:
            sequence = await target.fetchval(
                "SELECT pg_get_serial_sequence($1, $2)", f'"{table.name}"', column
            )
            if sequence is None:
                continue
            top = await target.fetchval(f'SELECT max("{column}") FROM "{table.name}"')  # noqa: S608
            if top is not None:
                await target.execute("SELECT setval($1, $2)", sequence, top)
                advanced += 1
    return advanced


async def _check_table(
    source: aiosqlite.Connection, target: Any, table: Table, expected: int, keys: list[Any]
) -> None:
    """The same count on both sides, and the same values in the sampled rows."""
    copied = await target.fetchval(f'SELECT count(*) FROM "{table.name}"')  # noqa: S608
    if copied != expected:
        raise MoveMismatch(f"{table.name}: {expected} rows in the source, {copied} copied")
    if not keys:
        return
    readers = table.readers
    marks = ", ".join("?" * len(keys))
    select = f'SELECT {table.quoted()} FROM "{table.name}"'  # noqa: S608
    async with source.execute(f'{select} WHERE "{table.key}" IN ({marks})', keys) as cursor:
        theirs = {
            row[table.columns.index(table.key)]: [
                value if read is None or value is None else read(value)
                for value, read in zip(row, readers, strict=True)
            ]
            for row in await cursor.fetchall()
        }
    ours = {
        row[table.key]: [normal(value) for value in row.values()]
        for row in await target.fetch(f'{select} WHERE "{table.key}" = ANY($1)', keys)
    }
    for key in keys:
        before, after = theirs.get(key), ours.get(key)
        if before is None or after is None:
            raise MoveMismatch(f"{table.name}: row {key!r} is missing on one side")
        differ = [c for c, a, b in zip(table.columns, before, after, strict=True) if a != b]
        if differ:
            raise MoveMismatch(f"{table.name}: row {key!r} differs in {', '.join(differ)}")
