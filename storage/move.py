"""Moving a desk: every row of its SQLite file into an empty PostgreSQL database, ids and all.

The target is migrated first (storage.db.migrate_database), so that it counts as migrated;
then, in one transaction, the tables' secondary indexes and keys are set aside
(storage.move_target), the rows of every table of storage.models are streamed in with one
COPY per table, and the indexes and keys are made again over them: a move that fails or does
not check out leaves no row behind and can simply be run again. The source is opened read-only
and read in one read transaction, a snapshot. The inbox and the outbox go across as they are:
what was pending stays pending.

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

import random
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, cast

import aiosqlite

from storage.config import on_postgres
from storage.db import migrate_database, sqlite_path
from storage.move_plan import (
    MoveRefused,
    Table,
    TargetNotEmpty,
    check_migrations,
    columns_of_target,
    copy_text,
    migrations_of_source,
    migrations_of_target,
    model_tables,
    normal,
    plan_tables,
    references_of_target,
    source_columns,
    tables_with_rows,
)
from storage.move_target import connect, driver_module, make_again, set_aside

__all__ = ["MoveMismatch", "MoveRefused", "MoveReport", "TargetNotEmpty", "move_desk"]

BATCH = 5_000  # rows per COPY, and per progress step
SAMPLE = 100  # rows per table compared value by value

# table, rows copied so far, rows in all
Progress = Callable[[str, int, int], None]


class MoveMismatch(Exception):
    """The copy does not match its source; it was rolled back and the target holds no row."""


@dataclass(frozen=True)
class MoveReport:
    rows: dict[str, int]  # table -> rows copied, in the order copied
    compared: int  # rows compared value by value
    sequences: int  # sequences set past their largest id
    seconds: float  # the copy and its checks
    indexing_seconds: float = 0.0  # of which: making the indexes and keys set aside again
    rebuilt: int = 0  # indexes, unique constraints and foreign keys set aside and made again
    vacuum_seconds: float = 0.0  # VACUUM (ANALYZE) after the commit

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
    driver = driver_module()
    target = await connect(driver, target_url)
    try:
        if full := await tables_with_rows(target, keys):
            raise TargetNotEmpty(full)
    finally:
        await target.close()
    await migrate_database(target_url)
    read_only = f"{path.resolve().as_uri()}?mode=ro"
    async with aiosqlite.connect(read_only, uri=True, isolation_level=None) as source:
        target = await connect(driver, target_url)
        try:
            report = await _copy_all(source, target, keys, batch, sample, progress, seed)
            started = time.perf_counter()
            await target.execute("VACUUM (ANALYZE)")
            report = replace(report, vacuum_seconds=time.perf_counter() - started)
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
            aside = await set_aside(target, [table.name for table in tables])
            for table in tables:
                total = counts[table.name]
                positions = set(rng.sample(range(total), min(sample, total)))
                picked[table.name] = await _copy_table(
                    source, target, table, total, positions, batch, progress
                )
            copied = time.perf_counter()
            await make_again(target, aside)
            indexed = time.perf_counter()
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
        indexing_seconds=indexed - copied,
        rebuilt=aside.count,
    )


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
    """COPY the table's rows in text form (storage.move_plan.copy_text): one COPY, fed as the
    source is read, `batch` rows at a time, so that the server takes in one batch while the
    next is read, and memory holds a batch whatever the table's size. The keys of the rows at
    `positions`, to compare."""
    marks = sorted(positions)
    picked: list[Any] = []
    key_at = table.columns.index(table.key)
    width = len(table.columns)
    select = f'SELECT {table.quoted()} FROM "{table.name}" ORDER BY "{table.key}"'  # noqa: S608

    async def text() -> AsyncIterator[bytes]:
        done = 0
        if progress:
            progress(table.name, 0, total)
        async with source.execute(select) as cursor:
            while rows := cast(list[tuple[Any, ...]], await cursor.fetchmany(batch)):
                while len(picked) < len(marks) and marks[len(picked)] < done + len(rows):
                    picked.append(rows[marks[len(picked)] - done][key_at])
                try:
                    chunk = copy_text(rows, width)
                except ValueError as odd:
                    raise MoveMismatch(
                        f"{table.name}: rows {rows[0][key_at]!r}…{rows[-1][key_at]!r}"
                        f" hold {odd}, which PostgreSQL does not store"
                    ) from odd
                done += len(rows)
                yield chunk
                if progress:
                    progress(table.name, done, total)

    await target.copy_to_table(
        table.name, source=text(), columns=list(table.columns), format="text"
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
